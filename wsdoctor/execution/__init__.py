"""The only users of subprocess: child pytest processes (child), a pool of them running plans
(pool), the check of another interpreter (interpreter) and bisect's trials (trial_runner)."""
