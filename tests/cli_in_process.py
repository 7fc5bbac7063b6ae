"Run an `anime-colorize` sub-command through `main` in the test's own process: quicker than a new process, for refusals"
import contextlib, io, subprocess, sys

def call_main(sub:str, *args):
    "`anime-colorize SUB ARGS` through `main`; a `CompletedProcess` whose status is what `main` returns"
    from anime_colorization.cli import main
    out, err, argv = io.StringIO(), io.StringIO(), sys.argv
    sys.argv = ['anime-colorize', sub, *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err): status = main()
    finally: sys.argv = argv
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())
