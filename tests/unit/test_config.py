from __future__ import annotations

from slurmrest_stdio.config import DEFAULT_SLURM_CONF, Config, Limits, parse_slurm_conf


def test_parse_slurm_conf_reads_simple_parameters() -> None:
    text = """
# comment
ClusterName=lab
SlurmUser=slurm   # trailing comment
slurmuser=other
AuthAltParameters=jwt_key=/etc/slurm/jwt_hs256.key
NodeName=n[1-4] NodeAddr=127.0.0.1 CPUs=4
Include /etc/slurm/extra.conf
Empty=
"""
    conf = parse_slurm_conf(text)
    assert conf["slurmuser"] == "slurm"  # first one wins
    assert conf["clustername"] == "lab"
    assert conf["authaltparameters"] == "jwt_key=/etc/slurm/jwt_hs256.key"
    assert conf["nodename"] == "n[1-4]"
    assert conf["empty"] == ""
    assert "include" not in conf


def test_config_defaults() -> None:
    config = Config()
    assert config.slurm_conf_path == DEFAULT_SLURM_CONF
    assert Config(slurm_conf="/x").slurm_conf_path == "/x"
    limits = Limits()
    assert limits.max_body_bytes == 50 * 1024 * 1024 and limits.max_header_bytes == 65536
