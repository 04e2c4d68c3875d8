"""``impl='auto'``: choose the depthwise convolution's implementation by
measuring, like ``torch.backends.cudnn.benchmark``, but once per bucket of
shapes rather than once per shape.

Buckets. A call's family is its device, dtype, channels, kernel size,
memory format and whether a backward follows (training); its bucket is the
batch rounded up to a power of 2 and the height and the width each rounded
up to a power of sqrt(2) (widths 91..128 share a bucket). Which
implementation is fastest changes slowly with the map size, so the first
shape met in a bucket decides for all of the bucket's shapes. Multi-scale
training and whole-image testing, which bring a new (H, W) at nearly every
call (and make cudnn.benchmark a loss, which is why mmdet turns it off),
measure a few buckets per layer shape, not every image size.

Deciding a new bucket, in this order:

1. A decision from the cache file (below) is checked: it and PyTorch's
   float32 convolution run once on the call's tensors, and it is kept if
   their numbers agree.
2. A measured bucket of the family within ``NEAR_STEPS`` whose choice beat
   every other candidate by ``DECISIVE`` times or more lends its choice,
   checked the same way: a near bucket does not turn a 3x win around, and
   on a stream of sizes most buckets are decided so, at the price of a
   check.
3. Otherwise every candidate is measured: it runs on a copy of the real
   input (forward, plus backward when training), in a thread of its own,
   outside the caller's autograd context, the close bucket's choice first;
   a candidate far behind the best so far stops after its warm-up and one
   timed call. Where PyTorch's candidate computes the reference itself
   (float32 on the CPU, in the input's layout), that call is its warm-up,
   and its time where it is that far behind already. A process measures
   at most ``max_cases`` buckets, spending at most ``budget_s`` seconds
   (checks included); past that, the choice of the nearest measured bucket
   (the likeliest candidate if there is none) is checked instead.

Every check and measurement compares with PyTorch's float32 convolution of
the same tensors (output, and gradients when training; ``verify.py``): a
candidate that raises (any ``Exception``: out of memory, a Triton
compilation or resource error), writes into its inputs, or computes
something else is removed for the bucket with a warning; PyTorch's
convolution runs where none is left. A check of a candidate that passed
the full check of a bucket of the same family measured in this process
runs on a spread of 16 channels only, at the new bucket's map size: it
keeps a training check cheap next to a training step. Each bucket's
choice, and how it was made, is logged once. A choice that raises on a
later shape of its bucket is removed for the bucket; that call and the
later ones run the next fastest (:meth:`Dispatcher.drop`).

Memory. Measuring holds one copy of the input, PyTorch's float32 result
(output, and input gradient when training) and one candidate's result at a
time: about five of the layer's inputs, once per bucket. What the trials
freed is handed back to the system after a bucket whose trials held 64 MB
or more (``TRIM_BYTES``), not after smaller ones: the hand-back costs the
caller's next allocations page faults.

Environment:
    MMREP_DWCONV_IMPL: run one implementation wherever 'auto' is asked for
        (e.g. ``torch`` to reproduce PyTorch's numbers exactly) without
        editing a config. The rule: it replaces 'auto' only; a layer whose
        config names an implementation (``large_kernel_impl='rows'``) keeps
        it. Logged once per process and value, when it first applies.
    MMREP_DWCONV_CACHE: a JSON file keeping the decisions per bucket across
        processes, under the device's name and the torch version. A
        decision read from it is checked against PyTorch's convolution the
        first time its bucket is met (and measured anew if it fails). A file
        that is not such a table is logged and left alone. Processes of one
        job may still choose differently; every choice computes the same
        function.
"""
import ctypes
import json
import logging
import math
import os
import os.path as osp
import platform
import tempfile
import threading
import time

import torch
from mmengine.logging import print_log

from .kernels import memory_format
from .verify import (SPOT_CHANNELS, mismatch, reference,
                     reference_is_torch_call, spot_channels)

ENV_IMPL = 'MMREP_DWCONV_IMPL'
ENV_CACHE = 'MMREP_DWCONV_CACHE'
# A measured bucket this close (in bucket steps: half-octaves of height and
# width, octaves of batch) decides a new bucket when its choice was faster
# than every other candidate by DECISIVE times (checked, not measured), and
# else has its choice timed first.
NEAR_STEPS = 2
DECISIVE = 3
HOW = dict(measured='measured',
           lent=f'{{checked}}, not measured: {{near}} chose it by {DECISIVE}x'
           ' or more',
           nearest='{checked}, not measured (bounds reached): the choice of '
           '{near}',
           likeliest='{checked}, not measured (bounds reached): the '
           'likeliest')
SPOT = {False: 'checked', True: f'spot-checked ({SPOT_CHANNELS} channels)'}


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


def _octave(size):
    """b with 2**(b-1) < size <= 2**b (0 for sizes 0 and 1)."""
    return max(size - 1, 0).bit_length()


def _half_octave(size):
    """b with 2**((b-1)/2) < size <= 2**(b/2), in integers."""
    return max(size * size - 1, 0).bit_length()


def _sizes(b, half):
    """The sizes of bucket ``b``: 'lo-hi', or 'hi' for one size."""
    top = (lambda e: math.isqrt(2**e)) if half else (lambda e: 2**e)
    lo, hi = (top(b - 1) + 1 if b else 1), top(b)
    return f'{lo}-{hi}' if lo < hi else str(hi)


def _malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc
        return None


MALLOC_TRIM = _malloc_trim()


def return_freed_memory():
    """Hand what the trials freed back to the system. glibc gives each
    thread its own malloc arena and keeps memory freed there for that
    arena: the caller's thread does not reuse it, and peak RSS grew by what
    the trials had held (measured over 3 Mask R-CNN-31B training steps on
    the CPU: +300 to +520 MB; none with MALLOC_ARENA_MAX=1). Without glibc,
    nothing to do."""
    if MALLOC_TRIM is not None:
        MALLOC_TRIM(0)


# Trials holding less than this leave their freed memory to glibc: a trim
# also returns what the caller's thread had freed, which the caller's next
# allocations then fault in again (0.3 s per GB of 23 MB tensors, measured
# on the CPU; a Mask R-CNN-31B training step frees several GB).
TRIM_BYTES = 64 * 2**20


def trial_bytes(x, spot):
    """About what a bucket's trials hold at once: five float32 copies of
    the input (one input, PyTorch's output and input gradient, one
    candidate's), of its spot channels only for a spot check."""
    n, c, h, w = x.shape
    return 5 * 4 * n * (min(c, SPOT_CHANNELS) if spot else c) * h * w


def case_of(x, weight, training):
    """(family, bucket) of a call: what decides its speed, exactly and
    rounded (see the module's docstring)."""
    n, c, h, w = x.shape
    fmt = ('channels_last' if memory_format(x) == torch.channels_last
           else 'nchw')
    family = (x.device.type, str(x.dtype)[6:], c, weight.shape[-1], fmt,
              'train' if training else 'infer')
    return family, (_octave(n), _half_octave(h), _half_octave(w))


def bucket_key(family, bucket):
    """The bucket's name in logs and in the cache file, e.g.
    ``cpu|float32|c128|k31|n1|h91-128|w182-256|nchw|infer``."""
    device, dtype, c, k, fmt, mode = family
    n, h, w = bucket
    return (f'{device}|{dtype}|c{c}|k{k}|n{_sizes(n, False)}|'
            f'h{_sizes(h, True)}|w{_sizes(w, True)}|{fmt}|{mode}')


def case_key(x, weight, training):
    """The name of the bucket a call falls in."""
    return bucket_key(*case_of(x, weight, training))


def _sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def _is_table(table):
    return isinstance(table, dict) and all(
        isinstance(d, dict) and all(isinstance(v, str) for v in d.values())
        for d in table.values())


class Dispatcher:
    """Times candidate implementations once per bucket of shapes, checks
    their numbers against PyTorch's convolution, and remembers the fastest
    correct one.

    Args:
        implementations (dict): name -> :class:`~mmrep.ops.kernels.Kernels`
            (``forward(x, weight, bias)``, ``backward(grad_out, x, weight,
            needs)``).
        candidates (callable): ``candidates(x, weight, training)`` -> the
            names that can run these tensors, the likely fastest first.
        clock (callable): seconds, monotonic. Defaults to
            ``time.perf_counter`` (tests pass a fake one).
        repeats (int): timed calls per candidate after one warm-up.
        give_up (float): stop timing a candidate once one call takes this
            many times the best time so far.
        fallback (str): what runs when no candidate survives.
        max_cases (int): buckets measured per process, at most.
        budget_s (float): seconds spent measuring and checking per process
            after which no new bucket is measured.
    """

    def __init__(self, implementations, candidates, clock=time.perf_counter,
                 repeats=2, give_up=1.5, fallback='torch', max_cases=64,
                 budget_s=60.):
        self.implementations = implementations
        self.candidates = candidates
        self.clock = clock
        self.repeats = repeats
        self.give_up = give_up
        self.fallback = fallback
        self.max_cases = max_cases
        self.budget_s = budget_s
        self.reset()

    def reset(self):
        """Forget every decision and what measuring has cost: 'auto' then
        starts as in a new process."""
        self.choices = {}  # bucket key -> implementation
        self.timings = {}  # bucket key -> {name: seconds} of correct ones
        self.rejected = {}  # bucket key -> {name: why it was removed}
        self.measured = {}  # family -> {bucket: key} measured here
        self.spent_s = 0.
        self._said_spent = False
        self._said_forced = None
        self._disk = None  # (path, {namespace: {key: impl}} or None)

    def forced(self):
        """The implementation MMREP_DWCONV_IMPL names in place of 'auto',
        or None."""
        name = os.environ.get(ENV_IMPL)
        if name and name not in self.implementations:
            raise ValueError(f'{ENV_IMPL}={name!r} is not one of '
                             f'{sorted(self.implementations)}')
        if name and name != self._said_forced:
            self._said_forced = name
            print_log(f'depthwise_conv2d: {ENV_IMPL}={name} runs {name!r} '
                      "wherever 'auto' is configured (a layer configured "
                      'with another implementation keeps it); nothing is '
                      'measured', logger='current', level=logging.WARNING)
        return name or None

    def choose(self, x, weight, bias, training):
        """The implementation to run for this call (measuring its bucket
        if the bucket is new)."""
        forced = self.forced()
        if forced:
            return forced
        family, bucket = case_of(x, weight, training)
        key = bucket_key(family, bucket)
        if key not in self.choices:
            choice, source = self._decide(family, bucket, key, x, weight,
                                          bias, training)
            self.choices[key] = choice
            print_log(f'depthwise_conv2d {key}: {choice} ({source})',
                      logger='current')
        return self._runnable(key, x, weight, training)

    def _runnable(self, key, x, weight, training):
        """The bucket's choice or, where this shape is beyond it (the
        dense form's size limit), the fastest measured one that can run."""
        names = self.candidates(x, weight, training)
        choice = self.choices[key]
        if choice in names or choice == self.fallback:
            return choice
        times = {n: t for n, t in self.timings[key].items() if n in names}
        return min(times, key=times.get) if times else self.fallback

    def drop(self, x, weight, training, name, error):
        """``name``, the choice of this call's bucket, raised on this
        shape: remove it for the bucket; the next fastest takes over."""
        key = case_key(x, weight, training)
        self._reject(key, name, error)
        times = self.timings.setdefault(key, {})
        times.pop(name, None)
        self.choices[key] = (min(times, key=times.get) if times else
                             self.fallback)

    def _decide(self, family, bucket, key, x, weight, bias, training):
        """(choice, how it was made) for a bucket met for the first time."""
        cached = self._cached(x.device, key)
        if cached is not None:  # checked, not trusted
            spot = self._checked_in_full(family, cached)
            times = self._trial(key, x, weight, bias, training, [cached],
                                timed=False, spot=spot)
            if times:
                self.timings[key] = times
                return cached, 'cache file, ' + SPOT[spot]
        names = [n for n in self.candidates(x, weight, training)
                 if n != cached]
        names, how, near = self._plan(family, bucket, key, names)
        spot = how != 'measured' and bool(names) and \
            self._checked_in_full(family, names[0])
        times = self.timings[key] = self._trial(
            key, x, weight, bias, training, names, timed=how == 'measured',
            spot=spot)
        if not times:
            return self.fallback, 'no candidate passed'
        choice = min(times, key=times.get)
        if how in ('measured', 'lent'):  # not a stopgap past the bounds
            self._store(x.device, key, choice)
        return choice, HOW[how].format(near=near, checked=SPOT[spot]) + \
            ': ' + ', '.join(f'{n} {t * 1e3:.3g} ms' for n, t in times.items())

    def _checked_in_full(self, family, name):
        """Whether ``name`` passed the check of a bucket of ``family``
        measured here (on all of the family's channels): a new bucket's
        check of it may then run a spread of channels only."""
        return any(name in self.timings.get(key, {})
                   for key in self.measured.get(family, {}).values())

    def _plan(self, family, bucket, key, names):
        """(the candidates to run, how the bucket is decided (a key of
        ``HOW``), the nearest measured bucket) for a new bucket."""
        near, steps = self._nearest(family, bucket)
        guess = self.choices.get(near)
        close = steps is not None and steps <= NEAR_STEPS and guess in names
        if close and self._decisive(near):
            return [guess], 'lent', near
        if self._may_measure():
            self.measured.setdefault(family, {})[bucket] = key
            if close:
                names.sort(key=lambda n: n != guess)
            return names, 'measured', near
        if guess in names:
            return [guess], 'nearest', near
        return names[:1], 'likeliest', near

    def _decisive(self, key):
        """Whether the bucket's choice beat every other candidate by
        ``DECISIVE`` times or more."""
        times = sorted(self.timings.get(key, {}).values())
        return len(times) > 1 and times[1] >= DECISIVE * times[0]

    def _nearest(self, family, bucket):
        """(key, distance in bucket steps) of the measured bucket of
        ``family`` nearest to ``bucket``; (None, None) if there is none."""
        measured = self.measured.get(family, {})
        if not measured:
            return None, None
        steps = {b: sum(abs(i - j) for i, j in zip(b, bucket))
                 for b in measured}
        near = min(measured, key=lambda b: (steps[b], b))
        return measured[near], steps[near]

    def _may_measure(self):
        cases = sum(map(len, self.measured.values()))
        if cases < self.max_cases and self.spent_s < self.budget_s:
            return True
        if not self._said_spent:
            self._said_spent = True
            print_log(f'depthwise_conv2d: {cases} buckets measured in '
                      f'{self.spent_s:.3g} s (at most {self.max_cases} and '
                      f'{self.budget_s:g} s per process); a new bucket now '
                      'takes the nearest measured choice, checked',
                      logger='current')
        return False

    def _trial(self, key, x, weight, bias, training, names, timed=True,
               spot=False):
        """Seconds per call (forward, or forward + backward) of each of
        ``names`` whose results match PyTorch's on a copy of the tensors;
        the others are logged, recorded in ``rejected`` and left out.
        Untimed (a check), each runs once; with ``spot``, on a spread of
        the channels only (``verify.spot_channels``).

        The trials run in a thread of their own: the caller's autograd
        state is thread-local, and e.g. the saved-tensor hooks of activation
        checkpointing must not see (and later recompute) them.
        """
        outcome = {}

        def trials():
            try:
                outcome['times'] = self._trials(key, x, weight, bias,
                                                training, names, timed, spot)
            except BaseException as error:  # re-raised in the caller
                outcome['error'] = error

        start = self.clock()
        thread = threading.Thread(target=trials, name='dwconv-dispatch')
        thread.start()
        thread.join()
        if trial_bytes(x, spot) >= TRIM_BYTES:
            return_freed_memory()
        self.spent_s += self.clock() - start
        if 'error' in outcome:
            raise outcome['error']
        return outcome['times']

    def _trials(self, key, x, weight, bias, training, names, timed, spot):
        originals = [t.detach() if t is not None else None
                     for t in (x, weight, bias)]
        if spot:
            originals = list(spot_channels(*originals))
        # the input's values serve as output gradient: drawing random ones
        # would move the RNG and change the run (e.g. its drop-path masks)
        own = self._reference_call(names, x, training) if timed else None
        try:
            if own:  # the reference is this candidate's call: time it
                first, want = self._time(
                    self.implementations[own], originals,
                    originals[0] if training else None, float('inf'),
                    warm_up=0, repeats=1)
            else:
                want = reference(*originals,
                                 originals[0] if training else None)
        except Exception as error:  # nothing can be checked: the fallback
            print_log(f'depthwise_conv2d {key}: the float32 reference failed '
                      f'({type(error).__name__}: {error}); no candidate can '
                      'be checked', logger='current', level=logging.WARNING)
            return {}
        # one copy for all candidates, compared after each: a candidate
        # that writes into its inputs is removed and the copy restored
        inputs = [t.clone() if t is not None else None for t in originals]
        grad = inputs[0] if training else None
        times, best = {}, float('inf')
        for name in names:
            if name == own and first > self.give_up * best:
                # already as far behind as any candidate is given up at:
                # its call that computed the reference is its time
                times[name] = first
                continue
            try:
                seconds, got = self._time(
                    self.implementations[name], inputs, grad, best,
                    warm_up=0 if name == own else 1,
                    repeats=self.repeats if timed else 0)
                problem = mismatch(got, want, x.dtype, x.device)
                del got
            except Exception as error:  # e.g. out of memory, Triton errors
                problem = error
            if _restore(inputs, originals):
                problem = problem or 'it wrote into its inputs'
            if problem:
                self._reject(key, name, problem)
                continue
            times[name] = seconds
            best = min(best, seconds)
        return times

    def _reference_call(self, names, x, training):
        """The candidate whose call on these tensors is the reference's
        very computation (PyTorch's float32 convolution on the CPU, in the
        input's layout), or None. Its call computes the reference and is
        timed as its first call: its warm-up, and where it is already far
        behind the best, its time (a first call of PyTorch's CPU
        convolution took 1.0-1.2x the next at 31B's stage shapes)."""
        if not reference_is_torch_call(x, training):
            return None
        return next((n for n in names
                     if self.implementations[n].computes_reference), None)

    def _reject(self, key, name, problem):
        if isinstance(problem, BaseException):
            problem = f'{type(problem).__name__}: {problem}'
        self.rejected.setdefault(key, {})[name] = problem
        print_log(f'depthwise_conv2d {key}: {name} removed as a candidate '
                  f'({problem})', logger='current', level=logging.WARNING)

    def _time(self, kernels, inputs, grad, best, warm_up, repeats):
        """(seconds per call, the last call's [y] or [y, dx, dw]): the
        fastest of ``repeats`` calls after ``warm_up`` ones (the only call's
        time when there is no repeat)."""
        def call():
            y = kernels.forward(*inputs)
            if grad is None:
                return [y]
            return [y, *kernels.backward(grad, inputs[0], inputs[1])]

        device, samples, results = inputs[0].device, [], None
        with torch.no_grad():
            for _ in range(warm_up + repeats):
                results = None  # one call's results alive at a time
                _sync(device)
                start = self.clock()
                results = call()
                _sync(device)
                samples.append(self.clock() - start)
                # a first call can pay one-time costs (allocation, library
                # set-up): never give up on the warm-up alone
                if len(samples) > warm_up and \
                        samples[-1] > self.give_up * best:
                    break
        return min(samples[warm_up:] or samples), results

    # ----------------------------------------------------- on-disk cache
    def _namespace(self, device):
        return f'{device_name(device)} | torch {torch.__version__}'

    def _read_disk(self):
        """(path, table): the cache file's decisions; table is None when
        the file is not a decision table (it is then left alone)."""
        path = os.environ.get(ENV_CACHE)
        if not path:
            return None, None
        if self._disk is None or self._disk[0] != path:
            self._disk = (path, _load(path))
        return self._disk

    def _cached(self, device, key):
        table = self._read_disk()[1] or {}
        choice = table.get(self._namespace(device), {}).get(key)
        return choice if choice in self.implementations else None

    def _store(self, device, key, choice):
        path, table = self._read_disk()
        if table is None:
            return
        # read again: other processes of the job may have added decisions
        table = _load(path, quiet=True)
        if table is None:
            return
        table.setdefault(self._namespace(device), {})[key] = choice
        self._disk = (path, table)
        folder = osp.dirname(osp.abspath(path))
        os.makedirs(folder, exist_ok=True)
        # write whole then rename: readers never see half a file
        fd, tmp = tempfile.mkstemp(dir=folder, suffix='.json')
        with os.fdopen(fd, 'w') as f:
            json.dump(table, f, indent=1, sort_keys=True)
        os.replace(tmp, path)


def _restore(inputs, originals):
    """Whether a candidate changed its inputs (they are then restored)."""
    changed = False
    for copy, original in zip(inputs, originals):
        if copy is not None and not torch.equal(copy, original):
            copy.copy_(original)
            changed = True
    return changed


def _load(path, quiet=False):
    """The decision table in ``path``: {} where there is no file yet, None
    (with a warning unless ``quiet``) where the file is not one."""
    if not osp.exists(path):
        return {}
    try:
        with open(path) as f:
            table = json.load(f)
        problem = None if _is_table(table) else (
            'not a {device and torch: {bucket: implementation}} table')
    except (OSError, ValueError) as error:  # UnicodeDecodeError included
        problem = f'{type(error).__name__}: {error}'
    if problem is None:
        return table
    if not quiet:
        print_log(f'{ENV_CACHE}={path!r} is not a decision cache of mmrep '
                  f'({problem}): it is neither used nor overwritten; '
                  "'auto' measures as if there were none",
                  logger='current', level=logging.WARNING)
    return None
