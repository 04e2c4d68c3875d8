"""A one-node Slurm cluster on this machine, for the tests.

munged, slurmctld and slurmd run in the foreground as child processes of
the test session, with every config, key, socket, state and log file in one
temporary folder; stopping them means terminating those pids.
"""
import os
import os.path as osp
import shutil
import subprocess
import time

from . import free_port

DAEMONS = ('munged', 'slurmctld', 'slurmd')


def missing_binaries():
    return [b for b in DAEMONS + ('srun', 'sinfo', 'scontrol')
            if shutil.which(b) is None]


SLURM_CONF = """\
ClusterName=mmrep-test
SlurmctldHost=localhost(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={root}/munge.socket
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SchedulerType=sched/builtin
ReturnToService=2
MpiDefault=none
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} State=UNKNOWN
PartitionName=cpu Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


class SlurmCluster:
    """Start with :meth:`start`, stop with :meth:`stop`; ``env`` is the
    environment under which srun/sbatch reach this cluster."""

    partition = 'cpu'

    def __init__(self, root):
        self.root = str(root)
        self.procs = {}
        self.conf = osp.join(self.root, 'slurm.conf')
        self.env = dict(os.environ, SLURM_CONF=self.conf)

    def _write_files(self):
        for sub in ('state', 'spool'):
            os.makedirs(osp.join(self.root, sub), exist_ok=True)
        key = osp.join(self.root, 'munge.key')
        with open(key, 'wb') as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        with open(self.conf, 'w') as f:
            f.write(SLURM_CONF.format(root=self.root, cpus=os.cpu_count(),
                                      ctld_port=free_port(),
                                      slurmd_port=free_port()))

    def _spawn(self, name, cmd):
        log = open(osp.join(self.root, f'{name}.out'), 'w')
        self.procs[name] = subprocess.Popen(cmd, env=self.env, stdout=log,
                                            stderr=subprocess.STDOUT)

    def start(self, timeout=60):
        self._write_files()
        r = self.root
        self._spawn('munged', [
            'munged', '--foreground', '--force',
            f'--key-file={r}/munge.key', f'--socket={r}/munge.socket',
            f'--pid-file={r}/munged.pid', f'--log-file={r}/munged.log',
            f'--seed-file={r}/munged.seed'])
        self._wait(lambda: osp.exists(f'{r}/munge.socket'), timeout, 'munged')
        self._spawn('slurmctld', ['slurmctld', '-D', '-i', '-f', self.conf])
        self._spawn('slurmd', ['slurmd', '-D', '-N', 'localhost', '-f',
                               self.conf])
        self._wait(self._node_idle, timeout, 'the node to become idle')
        return self

    def _node_idle(self):
        out = subprocess.run(['sinfo', '-h', '-N', '-o', '%T'], env=self.env,
                             capture_output=True, text=True)
        return out.returncode == 0 and out.stdout.strip() in ('idle', 'mixed')

    def _wait(self, ready, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f'{dead} exited while waiting for {what}:'
                                   f'\n{self.logs()}')
            if ready():
                return
            time.sleep(0.5)
        raise TimeoutError(f'waited {timeout}s for {what}:\n{self.logs()}')

    def logs(self):
        text = []
        for name in ('munged.out', 'slurmctld.log', 'slurmd.log',
                     'slurmctld.out', 'slurmd.out'):
            path = osp.join(self.root, name)
            if osp.exists(path):
                with open(path) as f:
                    text.append(f'--- {name}\n' + f.read()[-2000:])
        return '\n'.join(text)

    def stop(self):
        for name in reversed(DAEMONS):
            proc = self.procs.pop(name, None)
            if proc is None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
