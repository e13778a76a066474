"""``/slurm/v0.0.38/``: POST job/submit -- a batch job, or a heterogeneous job, with sbatch.

The body is read in slurmrestd's order, so the same mistakes get the same statuses:

1. no ``script`` (or no object at all): 500, ESLURM_JOB_SCRIPT_MISSING;
2. neither ``job`` (an object) nor ``jobs`` (a non-empty list of objects): 400,
   ESLURM_REST_INVALID_JOBS_DESC;
3. anything that is not a job Slurm can take -- unknown or unsupported properties, wrong
   types, values argv or Slurm cannot carry, a script sbatch would refuse: 400,
   ESLURM_REST_FAIL_PARSING, one error per problem, each naming its JSON path;
4. a component without environment: 400, ESLURM_ENVIRONMENT_MISSING.

Then each component's properties become sbatch options (``job_properties``), the script
goes to sbatch's standard input and each component's environment to sbatch exactly (see
``backend.cli_submit``). A job submitted held is answered like slurmrestd does: 200 with
ESLURM_JOB_HELD in ``errors``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slurmrest_stdio.api import ESLURM_REST_FAIL_PARSING, Context, Payload, Result, validate
from slurmrest_stdio.errors import SlurmCommandError, SlurmError

SCHEMA = "v0.0.38_job_submission"

SCRIPT_MISSING = SlurmError("Job script not specified", 2009)
INVALID_JOBS_DESC = SlurmError(
    "Jobs description entry not found, empty or not dictionary or list", 9002
)
FAIL_PARSING = SlurmError("Failure during parsing", ESLURM_REST_FAIL_PARSING)
ENVIRONMENT_MISSING = SlurmError("Environment is missing in job", 2127)
JOB_HELD = SlurmError("Job is in held state, pending scheduler release", 2042)
SOURCE = "request body"


def _fail(base: SlurmError, descriptions: Sequence[str], status: int) -> SlurmCommandError:
    return SlurmCommandError(
        [SlurmError(base.error, base.error_number, text, SOURCE) for text in descriptions],
        status=status,
    )


def parse_submission(ctx: Context, data: Any) -> tuple[
        list[list[str]], bytes, list[dict[str, str]], bool]:
    """Read a submission body: (sbatch options per component, script, environment per
    component, whether the job is submitted held).

    Raises:
        SlurmCommandError: the body is not a submission (status and errors as described
            in the module's documentation).
    """
    from slurmrest_stdio.api.v0_0_38 import job_properties as jp  # POST only: lazily

    if not isinstance(data, dict) or not isinstance(data.get("script"), str):
        what = ("the body has no 'script' string" if isinstance(data, dict)
                else "the body is not an object with a 'script'")
        raise _fail(SCRIPT_MISSING, [what], 500)
    if "job" in data and "jobs" in data:
        raise _fail(INVALID_JOBS_DESC, ["give either 'job' or 'jobs', not both"], 400)
    job, jobs = data.get("job"), data.get("jobs")
    if isinstance(job, dict):
        components: list[tuple[str, Mapping[str, Any]]] = [("job", job)]
    elif isinstance(jobs, list) and jobs and all(isinstance(j, dict) for j in jobs):
        components = [(f"jobs[{i}]", j) for i, j in enumerate(jobs)]
    else:
        raise _fail(INVALID_JOBS_DESC, [
            "'job' must be an object of job properties, or 'jobs' a non-empty list of them"
        ], 400)

    problems = jp.Problems()
    # unknown names first and by their full path (the schema would only say "additional")
    for key in data:
        if key not in ("script", "job", "jobs"):
            problems.add(key, "unknown field (a submission has 'script' and 'job' or 'jobs')")
    for where, props in components:
        for name in props:
            if name not in jp.PROPERTIES:
                problems.add(f"{where}.{name}", "unknown property")
    if not problems and ctx.plugin is not None:
        problems.extend(validate(data, SCHEMA, ctx.plugin))
    if problems:
        raise _fail(FAIL_PARSING, problems, 400)

    script: str = data["script"]
    jp.check_script(script, "script", problems)
    options: list[list[str]] = []
    environments: list[dict[str, str]] = []
    missing: list[str] = []
    for index, (where, props) in enumerate(components):
        words = jp.sbatch_options(props, where, problems)
        # the script's directives apply to the first component only (hetjob is refused)
        if "name" not in props and (index > 0 or not jp.names_the_job(script)):
            # named nowhere: the job has no name, as with slurmrestd (not sbatch's "sbatch")
            words.insert(0, "--job-name=")
        options.append(words)
        env = props.get("environment")
        if not env:
            missing.append(f"{where}.environment: must be set and not empty")
        environments.append(jp.job_environment(env, f"{where}.environment", problems))
    if problems:
        raise _fail(FAIL_PARSING, problems, 400)
    if missing:
        raise _fail(ENVIRONMENT_MISSING, missing, 400)
    # sbatch carries a component's hold on to the components after it (a job-wide option),
    # so one held component holds the job and slurmctld reports it for the last one
    held = any(props.get("hold") is True for _, props in components)
    return options, script.encode("utf-8"), environments, held


def post_submit(ctx: Context) -> Result:
    """``POST job/submit``: submit the job(s) with sbatch, as the client."""
    # an empty body is no submission at all (slurmrestd: the script is missing)
    data = ctx.body_data() if ctx.request.body else None
    options, script, environments, held = parse_submission(ctx, data)
    result = ctx.backend.submit(ctx.identity, options, script, environments)
    errs: tuple[dict[str, object], ...] = ()
    if held:
        # slurmctld accepts a held job with ESLURM_JOB_HELD, which slurmrestd reports
        errs = (SlurmError(JOB_HELD.error, JOB_HELD.error_number,
                           f"JobId={result.job_id} is held", "slurm_submit_batch_job"
                           ).to_dict(),)
    return Payload({
        "job_id": result.job_id,
        "step_id": result.step_id,
        "job_submit_user_msg": result.job_submit_user_msg,
    }, errors=errs)
