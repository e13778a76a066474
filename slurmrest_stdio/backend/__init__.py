"""What the operations need from Slurm (``base``) and the real implementation (``slurmcli``)."""
