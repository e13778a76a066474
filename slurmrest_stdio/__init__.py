"""slurmrest-stdio: a per-connection REST gateway to Slurm, compatible with slurmrestd."""

__version__ = "0.1.0"
