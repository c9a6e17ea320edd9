# redis-compat/python/report.py: the checks and the summary line of the Python
# programs (redis_py.py, cluster_keys.py), written once: `ok - <what>`,
# `FAIL - <what>: <why>`, and `N passed, M failed` last, with the exit status
# run.sh expects (redis-compat/README.md). Values are compared with their types,
# all the way down, because a wrong reply type is what these programs look for.
import sys


def same(got, expected):
    """Equal in value and in type, all the way down: in Python True == 1 and a
    list holding 1 equals one holding True, which would hide a wrong reply type."""
    if type(got) is not type(expected):
        return False
    if isinstance(expected, (list, tuple)):
        return len(got) == len(expected) and all(map(same, got, expected))
    return got == expected


class Report:
    def __init__(self):
        self.passed = 0
        self.failed = 0

    def ok(self, what):
        self.passed += 1
        print(f"ok - {what}", flush=True)

    def fail(self, what, why):
        self.failed += 1
        print(f"FAIL - {what}: {why}", flush=True)

    def check(self, what, condition, why):
        if condition:
            self.ok(what)
        else:
            self.fail(what, why)
        return condition

    def equal(self, what, got, expected):
        return self.check(what, same(got, expected), f"expected {expected!r}, got {got!r}")

    def step(self, title, body):
        # One step's unexpected exception must not hide the checks of the others.
        try:
            body()
        except Exception as exc:  # noqa: BLE001 - any exception is a failed step
            self.fail(title, f"unexpected {type(exc).__name__}: {exc}")

    def finish(self):
        print(f"{self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(0 if self.failed == 0 and self.passed > 0 else 1)
