"""``impl='auto'``: choose the depthwise convolution's implementation by
measuring, like ``torch.backends.cudnn.benchmark``.

The first time the process meets a case (device, dtype, shape, kernel size,
memory format, training or inference), every candidate runs on copies of
the real tensors (forward, plus backward when training; in a separate
thread, outside the caller's autograd context) and the fastest is
kept for the rest of the process; the choice is logged once through
mmengine's logger. Candidates that fall far behind the best so far stop
being timed early, so a slow candidate costs about one call.

Environment:
    MMREP_DWCONV_IMPL: force one implementation wherever 'auto' is asked
        for (e.g. ``torch`` to reproduce PyTorch's numbers exactly).
    MMREP_DWCONV_CACHE: a JSON file keeping the decisions across processes,
        keyed by device name and torch version. Processes of one job may
        still choose differently; every choice computes the same function.
"""
import json
import os
import os.path as osp
import platform
import tempfile
import threading
import time

import torch
from mmengine.logging import print_log

ENV_IMPL = 'MMREP_DWCONV_IMPL'
ENV_CACHE = 'MMREP_DWCONV_CACHE'


def device_name(device):
    """A readable name of the device the timings belong to."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            cpu = next(line.split(':', 1)[1].strip() for line in f
                       if line.startswith('model name'))
    except (OSError, StopIteration):
        pass
    return f'{cpu} ({torch.get_num_threads()} threads)'


def case_key(x, weight, training):
    """The identity of a call, as far as its speed is concerned."""
    fmt = ('channels_last' if not x.is_contiguous()
           and x.is_contiguous(memory_format=torch.channels_last) else
           'nchw')
    shape = 'x'.join(map(str, x.shape))
    mode = 'train' if training else 'infer'
    return (f'{x.device.type}|{str(x.dtype)[6:]}|{shape}|'
            f'k{weight.shape[-1]}|{fmt}|{mode}')


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


class Dispatcher:
    """Times candidate implementations once per case and remembers the
    fastest.

    Args:
        implementations (dict): name -> ``fn(x, weight, bias)``.
        candidates (callable): ``candidates(x, weight)`` -> the names worth
            timing for these tensors.
        clock (callable): seconds, monotonic. Defaults to
            ``time.perf_counter`` (tests pass a fake one).
        repeats (int): timed calls per candidate after one warm-up.
        give_up (float): stop timing a candidate once one call takes this
            many times the best time so far.
    """

    def __init__(self, implementations, candidates, clock=time.perf_counter,
                 repeats=2, give_up=1.5):
        self.implementations = implementations
        self.candidates = candidates
        self.clock = clock
        self.repeats = repeats
        self.give_up = give_up
        self.choices = {}
        self.timings = {}  # case -> {name: seconds}, for what was measured
        self._disk = None  # (path, {namespace: {case: impl}}) once read

    def forced(self):
        name = os.environ.get(ENV_IMPL)
        if name and name not in self.implementations:
            raise ValueError(f'{ENV_IMPL}={name!r} is not one of '
                             f'{sorted(self.implementations)}')
        return name or None

    def choose(self, x, weight, bias, training):
        """The implementation to run for this call (measuring if new)."""
        forced = self.forced()
        if forced:
            return forced
        key = case_key(x, weight, training)
        choice = self.choices.get(key)
        if choice is None:
            choice = self._cached(x.device, key)
            source = 'cache file'
            if choice is None:
                times = self.timings[key] = self.measure(x, weight, bias,
                                                         training)
                choice = min(times, key=times.get)
                source = ', '.join(f'{n} {t * 1e3:.3g} ms'
                                   for n, t in times.items())
                self._store(x.device, key, choice)
            self.choices[key] = choice
            print_log(f'depthwise_conv2d {key}: {choice} ({source})',
                      logger='current')
        return choice

    def measure(self, x, weight, bias, training):
        """Seconds per call (forward, or forward + backward) of every
        candidate on copies of the tensors; inf for one that failed.

        The trials run in a thread of their own: the caller's autograd
        state is thread-local, and e.g. the saved-tensor hooks of activation
        checkpointing must not see (and later recompute) them.
        """
        outcome = {}

        def trials():
            try:
                outcome['times'] = self._measure(x, weight, bias, training)
            except BaseException as error:  # re-raised in the caller
                outcome['error'] = error

        thread = threading.Thread(target=trials, name='dwconv-dispatch')
        thread.start()
        thread.join()
        if 'error' in outcome:
            raise outcome['error']
        return outcome['times']

    def _measure(self, x, weight, bias, training):
        inputs = [t.detach().clone().requires_grad_(training)
                  if t is not None else None for t in (x, weight, bias)]
        # the input's values serve as output gradient: drawing random ones
        # would move the RNG and change the run (e.g. its drop-path masks)
        grad = inputs[0].detach() if training else None
        times, best = {}, float('inf')
        for name in self.candidates(x, weight):
            fn = self.implementations[name]
            try:
                times[name] = self._time(fn, inputs, grad, best)
            except (RuntimeError, ValueError) as error:  # e.g. out of memory
                print_log(f'depthwise_conv2d: {name} failed while timing '
                          f'({error}); not a candidate', logger='current')
                times[name] = float('inf')
            best = min(best, times[name])
        return times

    def _time(self, fn, inputs, grad, best):
        leaves = [t for t in inputs if t is not None and t.requires_grad]

        def call():
            with torch.enable_grad() if grad is not None else \
                    torch.no_grad():
                y = fn(*inputs)
                if grad is not None:
                    torch.autograd.grad(y, leaves, grad)

        device, samples = inputs[0].device, []
        for _ in range(1 + self.repeats):  # the first call is the warm-up
            _sync(device)
            start = self.clock()
            call()
            _sync(device)
            samples.append(self.clock() - start)
            if samples[-1] > self.give_up * best:
                break
        return min(samples[1:] or samples)

    # ----------------------------------------------------- on-disk cache
    def _namespace(self, device):
        return f'{device_name(device)} | torch {torch.__version__}'

    def _read_disk(self):
        path = os.environ.get(ENV_CACHE)
        if not path:
            return None, {}
        if self._disk is None or self._disk[0] != path:
            table = {}
            if osp.isfile(path):
                try:
                    with open(path) as f:
                        table = json.load(f)
                except (OSError, ValueError) as error:
                    raise ValueError(f'{ENV_CACHE}={path!r} is not a readable'
                                     f' JSON decision cache: {error}')
            self._disk = (path, table)
        return self._disk

    def _cached(self, device, key):
        choice = self._read_disk()[1].get(self._namespace(device), {}).get(
            key)
        return choice if choice in self.implementations else None

    def _store(self, device, key, choice):
        path, table = self._read_disk()
        if not path:
            return
        table.setdefault(self._namespace(device), {})[key] = choice
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        # write whole then rename: readers never see half a file
        fd, tmp = tempfile.mkstemp(dir=folder, suffix='.json')
        with os.fdopen(fd, 'w') as f:
            json.dump(table, f, indent=1, sort_keys=True)
        os.replace(tmp, path)
