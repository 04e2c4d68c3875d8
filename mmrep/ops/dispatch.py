"""``impl='auto'``: choose the depthwise convolution's implementation by
measuring, like ``torch.backends.cudnn.benchmark``.

The first time the process meets a case (device, dtype, shape, kernel size,
memory format, training or inference), every candidate runs on copies of
the real tensors (forward, plus backward when training; in a separate
thread, outside the caller's autograd context). A candidate that raises
(any ``Exception``: out of memory, a Triton compilation or resource error)
or whose output or gradients differ from PyTorch's convolution of the same
tensors (``verify.py``) is removed with a warning; the fastest of the rest
is kept for the rest of the process, PyTorch's convolution when none is
left. The choice is logged once through mmengine's logger. Candidates that
fall far behind the best so far stop being timed early (after the warm-up
and one timed call: a first call can pay one-time costs), so a slow
candidate costs about two calls.

Cost, once per case: the timed calls, plus one float32 PyTorch convolution
(forward, and its backward when training) as the reference.

Environment:
    MMREP_DWCONV_IMPL: force one implementation wherever 'auto' is asked
        for (e.g. ``torch`` to reproduce PyTorch's numbers exactly).
    MMREP_DWCONV_CACHE: a JSON file keeping the decisions across processes,
        keyed by device name and torch version. A decision read from it is
        checked against PyTorch's convolution the first time it is used
        (and measured anew if it fails). Processes of one job may still
        choose differently; every choice computes the same function.
"""
import json
import logging
import os
import os.path as osp
import platform
import tempfile
import threading
import time

import torch
from mmengine.logging import print_log

from .verify import mismatch, reference

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
    """Times candidate implementations once per case, checks their numbers
    against PyTorch's convolution, and remembers the fastest correct one.

    Args:
        implementations (dict): name -> :class:`~mmrep.ops.kernels.Kernels`
            (``forward(x, weight, bias)``, ``backward(grad_out, x, weight,
            needs)``).
        candidates (callable): ``candidates(x, weight)`` -> the names worth
            timing for these tensors.
        clock (callable): seconds, monotonic. Defaults to
            ``time.perf_counter`` (tests pass a fake one).
        repeats (int): timed calls per candidate after one warm-up.
        give_up (float): stop timing a candidate once one call takes this
            many times the best time so far.
        fallback (str): what runs when no candidate survives.
    """

    def __init__(self, implementations, candidates, clock=time.perf_counter,
                 repeats=2, give_up=1.5, fallback='torch'):
        self.implementations = implementations
        self.candidates = candidates
        self.clock = clock
        self.repeats = repeats
        self.give_up = give_up
        self.fallback = fallback
        self.choices = {}
        self.timings = {}  # case -> {name: seconds} of the correct ones
        self.rejected = {}  # case -> {name: why it was removed}
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
            choice, source = self._decide(key, x, weight, bias, training)
            self.choices[key] = choice
            print_log(f'depthwise_conv2d {key}: {choice} ({source})',
                      logger='current')
        return choice

    def _decide(self, key, x, weight, bias, training):
        """(choice, how it was made) for a case met for the first time."""
        cached = self._cached(x.device, key)
        if cached is not None:  # checked, not trusted
            times = self.trial(key, x, weight, bias, training, [cached])
            if times:
                self.timings[key] = times
                return cached, 'cache file, checked'
        names = [n for n in self.candidates(x, weight) if n != cached]
        times = self.trial(key, x, weight, bias, training, names)
        if not times:
            choice, source = self.fallback, 'no candidate passed'
        else:
            choice = min(times, key=times.get)
            source = ', '.join(f'{n} {t * 1e3:.3g} ms'
                               for n, t in times.items())
        self.timings[key] = times
        self._store(x.device, key, choice)
        return choice, source

    def trial(self, key, x, weight, bias, training, names):
        """Seconds per call (forward, or forward + backward) of each of
        ``names`` whose results match PyTorch's on copies of the tensors;
        the others are logged, recorded in ``rejected`` and left out.

        The trials run in a thread of their own: the caller's autograd
        state is thread-local, and e.g. the saved-tensor hooks of activation
        checkpointing must not see (and later recompute) them.
        """
        outcome = {}

        def trials():
            try:
                outcome['times'] = self._trial(key, x, weight, bias,
                                               training, names)
            except BaseException as error:  # re-raised in the caller
                outcome['error'] = error

        thread = threading.Thread(target=trials, name='dwconv-dispatch')
        thread.start()
        thread.join()
        if 'error' in outcome:
            raise outcome['error']
        return outcome['times']

    def _trial(self, key, x, weight, bias, training, names):
        x, weight, bias = (t.detach().clone() if t is not None else None
                           for t in (x, weight, bias))
        # the input's values serve as output gradient: drawing random ones
        # would move the RNG and change the run (e.g. its drop-path masks)
        grad = x if training else None
        try:
            want = reference(x, weight, bias, grad)
        except Exception as error:  # nothing can be checked: the fallback
            print_log(f'depthwise_conv2d {key}: the float32 reference failed '
                      f'({type(error).__name__}: {error}); no candidate can '
                      'be checked', logger='current', level=logging.WARNING)
            return {}
        times, best = {}, float('inf')
        for name in names:
            # copies of their own: a candidate that writes into its inputs
            # must not change what the next one sees
            inputs = [t.clone() if t is not None else None
                      for t in (x, weight, bias)]
            try:
                seconds, got = self._time(self.implementations[name], inputs,
                                          grad, best)
                problem = mismatch(got, want, x.dtype, x.device)
            except Exception as error:  # e.g. out of memory, Triton errors
                problem = error
            if problem:
                self._reject(key, name, problem)
                continue
            times[name] = seconds
            best = min(best, seconds)
        return times

    def _reject(self, key, name, problem):
        if isinstance(problem, BaseException):
            problem = f'{type(problem).__name__}: {problem}'
        self.rejected.setdefault(key, {})[name] = problem
        print_log(f'depthwise_conv2d {key}: {name} removed as a candidate '
                  f'({problem})', logger='current', level=logging.WARNING)

    def _time(self, kernels, inputs, grad, best):
        """(seconds per call, the last call's [y] or [y, dx, dw])."""
        def call():
            y = kernels.forward(*inputs)
            if grad is None:
                return [y]
            return [y, *kernels.backward(grad, inputs[0], inputs[1])]

        device, samples = inputs[0].device, []
        with torch.no_grad():
            for _ in range(1 + self.repeats):  # the first is the warm-up
                _sync(device)
                start = self.clock()
                results = call()
                _sync(device)
                samples.append(self.clock() - start)
                # a first call can pay one-time costs (allocation, library
                # set-up): never give up on the warm-up alone
                if len(samples) > 1 and samples[-1] > self.give_up * best:
                    break
        return min(samples[1:] or samples), results

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
