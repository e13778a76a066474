"""Every deliberate difference between slurmrest-stdio and Debian's slurmrestd 22.05.

This is the ONE list. A conformance test that meets one of these does not compare that
aspect; it asserts our documented behaviour instead and names the entry with :func:`ref`
(an unknown name fails at import time, and ``test_differences.py`` checks that every
entry is still exercised by some test, so the list cannot silently go stale).

Entries marked "(found by the conformance harness)" are not yet described in
``docs/slurmrestd-behaviour.md``.
"""

from __future__ import annotations

DIFFERENCES: dict[str, str] = {
    # -- the HTTP layer ---------------------------------------------------------------------
    "reason_phrases": (
        "slurmrestd writes non-standard upper-case reason phrases ('404 NOT FOUND', "
        "'405 NOT ALLOWED'); we write the standard ones. Clients read the status code, so "
        "only the code is compared."
    ),
    "stray_connection_close": (
        "After a response to HTTP/1.0 or 'Connection: close', slurmrestd writes a stray "
        "'Connection: Close\\r\\n' line after the body (outside any response). We send "
        "well-formed output only, with 'Connection: close' as a real header."
    ),
    "malformed_error_responses": (
        "Errors from slurmrestd's HTTP layer (such as its parse failure of a request "
        "pipelined behind an error) are a status line and 'Connection: Close' with no blank "
        "line and no body; ours are complete responses (status, headers, blank line, body)."
    ),
    "response_http_version": (
        "(found by the conformance harness) slurmrestd echoes 'HTTP/1.0' in the status "
        "line of its answer to an HTTP/1.0 request; we (h11) answer 'HTTP/1.1', as RFC 9110 "
        "section 2.5 says a server should (highest version it supports, same major). Not "
        "compared."
    ),
    "extra_headers": (
        "Only Content-Type (its media type) and the body length are compared. slurmrestd "
        "sends 'Connection: Close' on every error response; we send 'Allow' on 405 "
        "(RFC 9110 requires it) and 'Connection: close' only when we do close."
    ),
    "errors_keep_alive": (
        "(found by the conformance harness) After an error response (401, 404, 405, 415, "
        "400 body-on-GET) slurmrestd announces 'Connection: Close'; a request pipelined "
        "behind it then gets a broken '400 BAD REQUEST' (see malformed_error_responses) and "
        "slurmrestd exits 1. We keep the connection open after these "
        "(non-fatal) errors and answer the next request normally."
    ),
    "close_then_more_input": (
        "A request with 'Connection: close' (or HTTP/1.0, even with 'Connection: "
        "keep-alive') followed by more input in the same stream: slurmrestd 22.05 crashes "
        "(SIGSEGV) and writes nothing. We answer the first request and close cleanly."
    ),
    "length_required": (
        "A POST, PUT or PATCH without Content-Length (and not chunked) is 411 for us, "
        "decided by the protocol layer before routing (slurmrestd ignores a POST body sent "
        "without a length and parses it as the next request). slurmrestd routes it like any "
        "request: 405 for a path without that method (it has no PUT/PATCH routes at all), "
        "404 for an unknown path. (The PUT/PATCH and the 404/405 part were found by the "
        "conformance harness.)"
    ),
    # -- content negotiation ----------------------------------------------------------------
    "yaml_tags": (
        "slurmrestd's YAML is YAML 1.1 with a '%YAML 1.1' directive and explicit tags "
        "('!!str', '!!int', '!!map'); ours is plain YAML 1.2 from ruamel.yaml. YAML bodies "
        "are compared as parsed data."
    ),
    "qvalue_handling": (
        "slurmrestd 22.05 sorts Accept entries with a broken comparator: when more than one "
        "acceptable type is offered (with or without q-values) its choice varies from run "
        "to run, and 'q=0' is ignored ('application/json;q=0' gives JSON). We honour "
        "q-values (highest first, ties in header order, q=0 excludes: 415 when nothing is "
        "left). Where slurmrestd's answer is not fixed, only ours is asserted."
    ),
    "application_wildcard": (
        "'Accept: application/*' is JSON for us; slurmrestd 22.05 matches no type and "
        "answers 415."
    ),
    "application_yaml": (
        "(found by the conformance harness) 'Accept: application/yaml' (RFC 9512) is YAML "
        "for us, as in slurmrestd 23.02+; slurmrestd 22.05 does not know the type and "
        "answers 415."
    ),
    # -- the OpenAPI document ---------------------------------------------------------------
    "openapi_yaml_format": (
        "GET /openapi.yaml: slurmrestd returns JSON unless Accept asks for YAML (and then "
        "echoes the YAML type asked for); we always return YAML as 'application/x-yaml'."
    ),
    "openapi_json_format": (
        "(found by the conformance harness) GET /openapi.json with 'Accept' asking for YAML: "
        "slurmrestd returns YAML (the four spec paths share one handler); we always return "
        "JSON there."
    ),
    "spec_content": (
        "Our OpenAPI document is our own and describes only what we implement; slurmrestd's "
        "describes every loaded plugin (v0.0.36-v0.0.38, slurmdb). Spec paths are compared "
        "by status and media type only, plus: every path and method we describe must be one "
        "that slurmrestd describes."
    ),
    "plugin_versions": (
        "(found by the conformance harness) We serve openapi/v0.0.38 only; Debian's "
        "slurmrestd 22.05 loads every openapi plugin by default, so '/slurm/v0.0.37/ping' "
        "(and v0.0.36, dbv0.0.36/37) answer 200 there and 404 here."
    ),
    # -- URL paths --------------------------------------------------------------------------
    "dot_segments": (
        "(found by the conformance harness) slurmrestd 22.05 mishandles '.' path segments: "
        "a '.' (or '%2e') before another segment makes the path unknown "
        "('/slurm/./v0.0.38/ping' and '/slurm/v0.0.38/./ping' are 404), and "
        "'/slurm/v0.0.38/ping/./.' is 400 as if it contained '..'; only a trailing '.' is "
        "ignored. We drop '.' segments wherever they are (RFC 3986 section 5.2.4)."
    ),
    # -- GET diag, licenses, partitions, reservations -----------------------------------------
    "state_read_errors": (
        "(found by the conformance harness) Errors of GET diag, licenses, partition(s) and "
        "reservation(s): slurmrestd 22.05 writes them as {'error', 'errno'} for partitions "
        "and reservations, reports a failed call to slurmctld as -1 'Unspecified error' "
        "(an unknown reservation while slurmctld is down even as 2053), and answers a "
        "non-numeric update_time with 400 and an empty errors list. We keep its statuses "
        "and the rest of each body, but every error is {description, error_number, error, "
        "source} with Slurm's actual error (1800 when slurmctld cannot be reached, 2000, "
        "2053, 9000 for update_time) and a description naming what failed."
    ),
    "job_node_reads": (
        "(found by the conformance harness) GET jobs, nodes and node/{node_name}. (1) "
        "slurmrestd 22.05 writes node errors (an unknown node, no controller) as {'error', "
        "'errno'} only, and answers an 'update_time' that is not a number with 400 and an "
        "empty errors list; we write the v0.0.38 error shape {'description', "
        "'error_number', 'error', 'source'} there too and say what is wrong with "
        "update_time (9000); statuses and the rest of the body are slurmrestd's. (2) For "
        "one node, slurmrestd reports the partitions of the cluster's first node (it fills "
        "partitions by position in the whole node table into a one-node answer); we "
        "report the node's own, as GET nodes does. (3) Node names are looked up as given; "
        "slurmrestd first turns a name that looks like a boolean or a number into another "
        "('yes' -> 'true', '01' -> '1') and so cannot find such a node."
    ),
    # -- writing jobs: POST job/submit, POST and DELETE job/{job_id} -----------------------------
    "job_write_errors": (
        "(found by the conformance harness) The same Slurm errors in one shape. slurmrestd's "
        "job/submit errors are {'error_code', 'error'} objects (its held-job notice too) "
        "next to {'description', 'error_number', 'error', 'source'} ones, several per "
        "problem; ours are always the latter, one per problem, and a description names the "
        "JSON path or the job. A failed update's description names the job ('job update of "
        "JobId=5 failed'), not slurmrestd's connection ('job update from fd:0->fd:1 "
        "failed'). After a successful update of an array task slurmrestd still adds an "
        "error without a number ('job array update ... failed': it tests a pointer, not the "
        "code); we add none. Compared: statuses and Slurm's error numbers and texts."
    ),
    "job_properties_strict": (
        "(found by the conformance harness) Job properties are read by the spec. Wrong "
        "types are 400 (slurmrestd turns '5' into 5 and 5 into '5'; keys in any case); "
        "unknown properties and properties Slurm cannot change on a submitted job are 400 "
        "naming them, also in an update (slurmrestd: 200, or silently nothing). We take "
        "the spec's values its parser refuses (begin_time as Unix seconds, nodes [n], "
        "exclusive 'true'/'false'), honour false (requeue, oversubscribe, spread_job, "
        "minimum_nodes, no_kill: slurmrestd sets them whatever the value) and apply a new "
        "name (slurmrestd drops it). A job id that names no job is refused before Slurm is "
        "asked; 'job' that is a list is 400 (slurmrestd: 500)."
    ),
    "sbatch_submission": (
        "(found by the conformance harness) Jobs are submitted with sbatch, which reads "
        "the script: it must start with #!, without NUL or DOS line breaks (400; "
        "slurmrestd submits it), and its #SBATCH directives apply under the request's "
        "properties (slurmrestd ignores them; --wait, --test-only and hetjob are refused, "
        "#PBS lines ignored). argv (script arguments: slurmrestd submits the job, then "
        "crashes without answering) and the variable DISPLAY are refused; "
        "sbatch adds SLURM_SUBMIT_DIR, SLURM_SUBMIT_HOST, SLURM_PRIO_PROCESS and "
        "SLURM_UMASK to the job's environment. In a heterogeneous job sbatch carries "
        "job-wide options (hold, account, qos, time limit, ...) from a component to the "
        "next unless it sets its own, and a one-element 'jobs' list is a plain job."
    ),
    "signal_values": (
        "(found by the conformance harness) DELETE job/{job_id}?signal= with a decimal or "
        "a boolean ('2.5', 'yes') is 400 for us; slurmrestd takes it for KILL and cancels "
        "the job. An operator signalling another user's job that is not running gets "
        "'Access/permission denied' from us (we answer for slurmctld, whose answer scancel "
        "would only give after 90 s of retries)."
    ),
    # -- rest_auth/jwt ---------------------------------------------------------------------
    "jwt_refused_401": (
        "A token Slurm does not accept is 401 for us; slurmrestd 22.05 runs the request "
        "and answers 500 with Slurm's errors (it never looks at the token itself). What is "
        "certain without a key (expired, alg 'none' or another Slurm cannot verify, not a "
        "JWT, no user claim) and, when the process can read the cluster's key, a bad "
        "signature, is refused before any command runs: 401 text/plain 'Authentication "
        "failure: <reason>'. A token only slurmctld can judge (a bad signature, no key "
        "readable) is 401 after the command failed: the v0.0.38 envelope, error 1007 "
        "'Protocol authentication error' (what later slurmrestd releases report there) "
        "first, then slurmrestd's errors. A token naming another user in X-SLURM-USER-NAME "
        "without being root's or SlurmUser's: 401 (slurmrestd: 500)."
    ),
    "jwt_headers_23_02": (
        "slurmrestd 22.05 wants both X-SLURM-USER-NAME and X-SLURM-USER-TOKEN and reads no "
        "'Authorization: Bearer' (401). We also take the token header alone and Bearer "
        "tokens, as slurmrestd 23.02 and later do; the token names the user."
    ),
    "jwt_reject_reason": (
        "When rest_auth/jwt refuses a request (a user name without a token, the token "
        "header and a Bearer token together, a bad token) our 401 body says why: "
        "'Authentication failure: <reason>'; slurmrestd's is 'Authentication failure'. A "
        "request no plugin accepts (no credentials) gets slurmrestd's exact text."
    ),
    "dbv0_0_38_object_schemas": (
        "slurmrestd's own spec does not describe what its dbv0.0.38 tres/cluster/wckey "
        "answers hold: dbv0.0.38_tres_info names the list 'tres' (the body says 'TRES'), "
        "meta's version numbers are strings (the body has integers), a cluster's 'tres' "
        "items are dbv0.0.38_response_tres (they are TRES records), wckeys lack 'accounts', "
        "and unset strings (TRES name, cluster nodes/select_plugin/associations.root) are "
        "not nullable. Our spec describes the bodies both programs send."
    ),
    "db_jobs_query_errors": (
        "GET /slurmdb/v0.0.38/jobs with a filter slurmrestd does not know or a value it "
        "cannot read (time, integer, job state, step id): slurmrestd answers 500, and for an "
        "unknown filter its error names nothing ('Unknown Query field', no source). We "
        "answer 400 (a client error, nothing asked of Slurm) with error 9000, the filter's "
        "name in 'source' and, for an unknown one, in the description too."
    ),
    "db_jobs_group_filter": (
        "slurmrestd 22.05's dbv0.0.38 jobs filter by group is called 'groups' in its code "
        "while its spec names it 'group' (500 'Unknown Query field'), and it hands group "
        "names to slurmdbd unresolved, where they match no group id as intended (a name "
        "reads as gid 0). We take both spellings and resolve names as 'sacct --group' does."
    ),
    "db_jobs_unsupported_filters": (
        "GET /slurmdb/v0.0.38/jobs with submit_time together with both step and end_time: "
        "slurmdbd then looks for the given jobs in all time but for their steps only in "
        "the window, which no 'sacct' command line asks for. We answer 400 (error 9000, "
        "source 'submit_time'); slurmrestd answers. (submit_time otherwise, exit_code, "
        "reason, reservation and constraints are done as slurmdbd 22.05 does them.)"
    ),
    "db_job_bad_id": (
        "GET /slurmdb/v0.0.38/job/{job_id} with an id Slurm cannot read as job/step ids "
        "('abc', '1.x'): slurmrestd exits in Slurm's fatal 'Bad job/step specified' and "
        "writes nothing. We answer 400, error 9000, source 'job_id'."
    ),
    "db_post_accounts_association": (
        "POST /slurmdb/v0.0.38/accounts: slurmrestd 22.05 stores only the account records "
        "(slurmdb_accounts_add with no associations), leaving a new account with no "
        "association on any cluster, so nobody can be added to it or run under it. We "
        "create it with 'sacctmgr add account', which also makes its association under "
        "root on every cluster; existing accounts get their description and organization "
        "set, as slurmrestd does."
    ),
    "db_post_accounts_checks": (
        "POST /slurmdb/v0.0.38/accounts: slurmrestd hands any text to slurmdbd. We refuse "
        "(400, error 9000, the object's path in 'source', before changing anything) names "
        "outside [a-z0-9_.-], and description/organization text with quotes, commas or "
        "control characters, empty description/organization, upper case in an "
        "organization (sacctmgr would lowercase it), and a name given twice. The "
        "account's associations, coordinators and flags are taken as slurmrestd takes "
        "them, with the checks of db_post_associations_checks and "
        "db_post_users_unknown_accounts (a flag other than DELETED gets slurmrestd's own "
        "parse error, 400)."
    ),
    "db_delete_qos_odd_names": (
        "DELETE /slurmdb/v0.0.38/qos/{qos_name} (also wckey/{wckey}) with a name outside "
        "[A-Za-z0-9_.-]: slurmrestd hands it to slurmdbd (a non-administrator then gets "
        "'Access/permission denied'). We never pass such a name to sacctmgr and answer 500 "
        "'Nothing found' (source slurmdb_qos_remove, slurmdb_wckeys_remove), what an "
        "administrator gets, whoever asks; cluster/{cluster_name} answers 304 likewise."
    ),
    "db_delete_cluster_never_deletes": (
        "DELETE /slurmdb/v0.0.38/cluster/{cluster_name} by an administrator: slurmrestd "
        "22.05.8 removes nothing and answers 304 (no body) even for an existing cluster. "
        "We remove it (sacctmgr -i delete cluster) and answer 200 with "
        "'deleted_clusters' (the shape slurmrestd's code builds); nothing removed (or a "
        "name outside [A-Za-z0-9_.-], never passed on) is 304 as in slurmrestd."
    ),
    "db_post_users_default_wckey": (
        "POST /slurmdb/v0.0.38/users with default.wckey: slurmrestd 22.05 reads it and "
        "stores nothing (slurmdbd marks a default only among wckeys sent with the user, "
        "which its parser cannot read), answering 200. We set it (sacctmgr modify user set "
        "DefaultWCKey, on the clusters where the user has that wckey), and refuse (400, "
        "before any change) a wckey the user does not have."
    ),
    "db_post_users_unknown_accounts": (
        "POST /slurmdb/v0.0.38/users naming accounts or clusters that do not exist: "
        "slurmrestd answers 200, silently drops such associations, and records the user "
        "as coordinator of a nonexistent account. We refuse the request (400, error 9000, "
        "source 'users[i]', before any change); POST accounts likewise refuses unknown "
        "clusters and users in its associations."
    ),
    "db_post_associations_checks": (
        "POST /slurmdb/v0.0.38/users and accounts: the associations listed must name an "
        "account and a cluster (slurmrestd fails the request with 'Unspecified error' "
        "without a cluster), a user's must be of that user, an account's of that account "
        "(with a partition only together with a user), and every coordinator needs a "
        "name; otherwise 400, error 9000, the item's path in 'source', before any change "
        "(the associations, coordinators and flags themselves are taken as slurmrestd "
        "takes them)."
    ),
    "db_diag_rpc_order": (
        "GET /slurmdb/v0.0.38/diag: slurmrestd lists the RPC types and users in slurmdbd's "
        "own order (first use since its start), which no command shows; 'sacctmgr show "
        "stats' prints them sorted by count (then total time, then id), and that is our "
        "order. The entries themselves are the same."
    ),
    "db_post_association_checks": (
        "POST /slurmdb/v0.0.38/associations: every value is checked before anything "
        "changes, and what does not fit is refused (400, error 9000, the field's path in "
        "'source'): names outside [a-z0-9_.-] (partition [A-Za-z0-9_.-]), a missing "
        "cluster, counts that are not whole numbers (null clears a limit), unknown TRES or "
        "QOS, an empty qos list, null shares_raw, parent_account on a user's "
        "association, usage, flags other than DEFAULT, and is_default/DEFAULT unless the "
        "association already is the user's default. slurmrestd hands the values to "
        "slurmdbd (with its own parse errors for some)."
    ),
    "db_post_association_tres_kept": (
        "POST /slurmdb/v0.0.38/associations changing an association that has TRES limits "
        "without giving those TRES lists: slurmrestd 22.05.8 crashes (its diff of the "
        "TRES strings reads a list it never made) and writes nothing. We leave TRES "
        "lists not given as they are; a list given replaces the whole list, as "
        "slurmrestd's diff does."
    ),
    "db_post_association_new_user": (
        "POST /slurmdb/v0.0.38/associations for a user with no user record: slurmrestd "
        "stores an association of a user that does not exist. We add it with 'sacctmgr "
        "add user', which also makes the user record (that account its default)."
    ),
    "db_post_associations_in_order": (
        "POST /slurmdb/v0.0.38/associations with several associations where a later one "
        "fails: slurmrestd commits nothing (400). We apply them in order with one sacctmgr "
        "call each: the first failing alone is Slurm's error (400, nothing changed); a "
        "later one is 400 with one error per association saying which were applied and "
        "stay, which failed and which were not tried."
    ),
    "db_delete_associations_everything": (
        "DELETE /slurmdb/v0.0.38/associations with no account, user or partition: "
        "slurmrestd removes every association matching the rest (with no query: every "
        "association of every cluster, root's included). We refuse it (400, error 9000, "
        "source slurmdb_associations_remove, removed_associations [])."
    ),
    "db_delete_association_odd_names": (
        "DELETE /slurmdb/v0.0.38/association(s) with a name outside [A-Za-z0-9_.-]: "
        "slurmrestd hands it to slurmdbd (a non-administrator then gets 'Access/permission "
        "denied', 500). We never pass it on and answer 304, what an administrator gets "
        "for a name that matches nothing, whoever asks."
    ),
    "db_post_qos_modify_keeps": (
        "POST /slurmdb/v0.0.38/qos for an existing QOS: slurmrestd 22.05 starts each entry "
        "from empty flags and preempt mode OFF, so a change that does not list 'flags' "
        "and 'preempt/mode' clears the QOS's flags and sets its preempt mode to 'cluster'. "
        "We change only the fields the entry gives (an empty list still clears them)."
    ),
    "db_post_qos_checks": (
        "POST /slurmdb/v0.0.38/qos: slurmrestd reads and applies one entry at a time (in "
        "one uncommitted transaction), so a non-administrator's body with a bad later "
        "entry gets 'Access/permission denied'; we check every entry first and answer the "
        "first refusal with slurmrestd's own errors for it (400). Values we do not pass to "
        "sacctmgr are refused by name (400, error 9001, the field's path in 'source'): a "
        "new QOS name outside [a-z0-9_.-], a description outside [A-Za-z0-9_.:/@+ -], a "
        "negative or non-finite factor, a TRES without type or with a null count or a "
        "count below -1 (-1 removes that limit, as in slurmrestd). Applied entries stay "
        "when a later sacctmgr call fails (400, one error per entry: applied, failed, "
        "not tried); slurmrestd commits none."
    ),
    "db_post_clusters_checks": (
        "POST /slurmdb/v0.0.38/clusters: slurmrestd re-adds a cluster that exists, which "
        "wipes its controller host, port and flags in slurmdbd (for the lab: until "
        "slurmctld registers again); we leave an existing cluster as it is (200). When its "
        "parser refuses a field after reading a name, slurmrestd still adds the clusters "
        "read so far (200 with the parse errors); we answer the same status and errors "
        "but add nothing. Names outside [a-z0-9_.-] are refused (400, error 9001)."
    ),
    "db_post_wckeys_checks": (
        "POST /slurmdb/v0.0.38/wckeys: slurmrestd stores a wckey for a user who is not in "
        "the database (and answers 200 while adding nothing for an unknown cluster). We "
        "refuse an unknown user (400, error 9001, source 'user'), and an unknown cluster "
        "is sacctmgr's error (500, 'Unspecified error'). Flag DEFAULT: slurmrestd marks "
        "the new wckey default but leaves the user's old default marked too (two "
        "defaults); we make it the only default (sacctmgr modify user set DefaultWCKey). "
        "A wckey's 'accounts', flag DELETED and names outside [a-z0-9_.-] are refused by "
        "name (400)."
    ),
    "db_post_users_keeps_admin_level": (
        "POST /slurmdb/v0.0.38/users for an existing user without administrator_level: "
        "slurmrestd 22.05 resets the user's level to None (its database insert updates "
        "admin_level to None when none is given), silently demoting an operator or "
        "administrator. We change the level only when the request gives one."
    ),
    "db_post_association_no_move": (
        "POST /slurmdb/v0.0.38/associations changing an account's own association: "
        "slurmrestd always passes the account's current parent along, so slurmdbd 'moves' "
        "the account to the first place under that same parent, rewriting the tree (the "
        "order of GET associations changes; with other writers at the same time this "
        "rewrite can corrupt slurmdbd's tree). We pass parent_account on only when it "
        "differs from the current parent."
    ),
    "db_delete_association_last_of_user": (
        "DELETE /slurmdb/v0.0.38/association(s) that would remove the last associations "
        "of a user: slurmrestd removes them and keeps the user (with no association). "
        "We remove a user's associations with 'sacctmgr delete user', which then also "
        "deletes the user (and their wckeys and coordinator roles), so we refuse (400, "
        "error 9000, one error per such user, removed_associations []) and nothing is "
        "removed; DELETE user/{name} removes a user."
    ),
}


def ref(name: str) -> str:
    """Name a deliberate difference; raises KeyError for a name not in :data:`DIFFERENCES`."""
    if name not in DIFFERENCES:
        raise KeyError(f"{name!r} is not a documented difference (see differences.py)")
    return name
