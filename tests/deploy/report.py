"""How the deploy checks end: print every problem found and choose the exit code.

A check run with --expect (on a deliberately broken copy) passes only when
every expected problem was reported, so each check is shown to fail when it
should; otherwise it passes only when it found no problem.
"""

import fnmatch


def finish(problems, expect, summary=""):
    for p in problems:
        print(p)
    if expect:
        missing = [e for e in expect if not any(fnmatch.fnmatch(p, f"*{e}*") for p in problems)]
        for m in missing:
            print(f"expected a problem matching {m!r}, none found")
        print(f"{len(problems)} problems; {len(expect) - len(missing)}/{len(expect)} expected ones found")
        return 1 if missing else 0
    print(f"{len(problems)} problems" + (f"; {summary}" if summary else ""))
    return 1 if problems else 0
