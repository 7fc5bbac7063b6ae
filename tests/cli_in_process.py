"Run an `anime-colorize` sub-command through `main` in the test's own process: quicker than a new process, for refusals"
import contextlib, io, subprocess, sys

def call_main(sub:str, *args):
    "`anime-colorize SUB ARGS` through `main`; a `CompletedProcess` whose status is the one the process would exit with"
    from anime_colorization.cli import main
    out, err, argv = io.StringIO(), io.StringIO(), sys.argv
    sys.argv = ['anime-colorize', sub, *map(str, args)]
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try: status = main()
            except SystemExit as e: status = e.code  # argparse: --help (0) or a usage error (2), as the process would exit
    finally: sys.argv = argv
    return subprocess.CompletedProcess(args, status, out.getvalue(), err.getvalue())
