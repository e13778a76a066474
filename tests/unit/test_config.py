from __future__ import annotations

from slurmrest_stdio.config import (
    DEFAULT_SLURM_CONF,
    Config,
    Limits,
    parse_slurm_conf,
    slurm_conf_entries,
)


def test_parse_slurm_conf_reads_settings_as_slurm_does() -> None:
    text = """
# comment
ClusterName=lab
SlurmUser=slurm   # trailing comment
slurmuser=other
AuthAltParameters=jwt_key=/etc/slurm/jwt_hs256.key
NodeName=n[1-4] NodeAddr=127.0.0.1 CPUs=4
PartitionName=debug Nodes=ALL Default=YES
Include /etc/slurm/extra.conf
Empty=
StateSaveLocation = "/var/spool/slurm state"  MessageTimeout=20
PrologFlags=\\
contain
"""
    conf = parse_slurm_conf(text)
    assert conf["slurmuser"] == "other"  # the latest one wins, as in Slurm
    assert conf["clustername"] == "lab"
    assert conf["authaltparameters"] == "jwt_key=/etc/slurm/jwt_hs256.key"
    assert conf["nodename"] == "n[1-4]" and conf["partitionname"] == "debug"
    assert "cpus" not in conf and "default" not in conf  # a record's, not settings
    assert conf["empty"] == ""
    assert conf["statesavelocation"] == "/var/spool/slurm state"  # spaces, quotes
    assert conf["messagetimeout"] == "20"  # a second setting on the line
    assert conf["prologflags"] == "contain"  # a continued line
    assert "include" not in conf


def test_slurm_conf_entries_keep_includes_in_order() -> None:
    text = "A=1\nInclude more.conf\nA=2 # again\n"
    assert list(slurm_conf_entries(text)) == [("a", "1"), ("include", "more.conf"),
                                              ("a", "2")]


def test_config_defaults() -> None:
    config = Config()
    assert config.slurm_conf_path == DEFAULT_SLURM_CONF
    assert Config(slurm_conf="/x").slurm_conf_path == "/x"
    limits = Limits()
    assert limits.max_body_bytes == 50 * 1024 * 1024 and limits.max_header_bytes == 65536
