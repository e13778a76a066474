"""``python -m slurmrest_stdio``: the same program as the ``slurmrest-stdio`` script."""

from slurmrest_stdio.launch import main

if __name__ == "__main__":
    main()
