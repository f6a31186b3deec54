from kosql.cli.main import run

run()
