"""The `kow` command: one short function per subcommand, each calling one library function."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
import yaml

from core.config import Settings, resolve_settings
from core.errors import KowError


class KowGroup(click.Group):
    """Shows a KowError as one clear message on stderr with exit status 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KowError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)


warehouse_option = click.option(
    "--warehouse",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Warehouse DuckDB file [default: $KOW_WAREHOUSE, else warehouse/kow.duckdb].",
)


@click.group(cls=KowGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kow")
def cli() -> None:
    """Ketamine Outcomes Warehouse: load de-identified clinic exports, build outcome tables, analyse them."""


@cli.command()
@click.option("--patients", type=click.IntRange(1, 1_000_000), required=True,
              help="Number of patients (1 to 1,000,000).")
@click.option("--seed", type=int, required=True, help="Random seed: the same seed gives the same files.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write.")
@click.option("--sites", type=click.IntRange(1, 99), default=3, show_default=True, help="Number of sites.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True,
              help="File format of the tables.")
def generate(patients: int, seed: int, out: Path, sites: int, fmt: str) -> None:
    """Write a synthetic clinic export (source contract v1) and its planted truth to OUT."""
    from ingest.generate import generate_clinic

    with click.progressbar(length=patients, label="Generating patients", file=sys.stderr) as bar:
        summary = generate_clinic(out, patients=patients, seed=seed, sites=sites, fmt=fmt, on_progress=bar.update)
    click.echo(summary.describe())


@cli.command()
@click.argument("source_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@warehouse_option
@click.option("--drop-unknown-columns", is_flag=True, help="Ignore columns the contract does not name.")
def ingest(source_dir: Path, warehouse: Path | None, drop_unknown_columns: bool) -> None:
    """Check SOURCE_DIR against the source contract and load it into the warehouse, all or nothing."""
    from ingest.load import load_source, load_steps

    settings = resolve_settings(warehouse)
    with click.progressbar(length=load_steps(), label="Checking and loading", file=sys.stderr) as bar:
        summary = load_source(source_dir, settings, drop_unknown_columns=drop_unknown_columns,
                              on_progress=bar.update)
    click.echo(summary.describe())


class _LazyBar:
    """A progress bar whose length is learnt once the work starts (dbt tells how many nodes it will run)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._bar: Any = None

    def total(self, length: int) -> None:
        self._bar = click.progressbar(length=length, label=self.label, file=sys.stderr)
        self._bar.__enter__()

    def update(self, steps: int) -> None:
        if self._bar is not None:
            self._bar.update(steps)

    def __enter__(self) -> _LazyBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def _parse_vars(ctx: click.Context, param: click.Parameter, value: str | None) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = yaml.safe_load(value)
    except yaml.YAMLError as exc:
        raise click.BadParameter(f"not valid JSON or YAML ({exc.__class__.__name__})") from exc
    if not isinstance(parsed, dict):
        raise click.BadParameter("give a mapping, e.g. '{\"response_reduction\": 0.4}'")
    return parsed


@cli.command()
@warehouse_option
@click.option("--vars", "vars_", callback=_parse_vars, default=None, metavar="JSON",
              help="Definition overrides as JSON/YAML, e.g. '{\"course_gap_days\": 60}' (names from dbt_project.yml).")
@click.option("--select", default=None, help="Build only these dbt nodes (dbt --select syntax).")
def build(warehouse: Path | None, vars_: dict[str, Any] | None, select: str | None) -> None:
    """Build the outcome tables (dbt build: seeds, models, unit and data tests) from the loaded data."""
    from kow.build import build_models

    settings = resolve_settings(warehouse)
    with _LazyBar("Building models and tests") as bar:
        summary = build_models(settings, vars=vars_, on_progress=bar.update, on_total=bar.total, select=select)
    click.echo(summary.describe())
    _publish(settings)


def _publish(settings: Settings) -> None:
    """Refresh the dashboard's aggregate-only file after the warehouse changed."""
    from analysis.publish import publish_aggregates

    click.echo(publish_aggregates(settings).describe())


@cli.command()
@warehouse_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("reports/latest"),
              show_default=True, help="Folder for report.html.")
def analyze(warehouse: Path | None, out: Path) -> None:
    """Estimate event rates, response, trajectories and durability from the marts; write analysis.* and a report."""
    from analysis.run import ANALYSIS_STEPS, analyze_warehouse

    settings = resolve_settings(warehouse)
    with click.progressbar(length=ANALYSIS_STEPS, label="Analysing", file=sys.stderr) as bar:
        summary = analyze_warehouse(settings, out_dir=out, on_progress=bar.update)
    click.echo(summary.describe())
    _publish(settings)


@cli.command(context_settings={"ignore_unknown_options": True})
@warehouse_option
@click.option("--port", type=click.IntRange(1, 65535), default=8501, show_default=True, help="Port on localhost.")
@click.argument("streamlit_args", nargs=-1, type=click.UNPROCESSED)
def dashboard(warehouse: Path | None, port: int, streamlit_args: tuple[str, ...]) -> None:
    """Serve the leadership dashboard over the published aggregates; extra options go to Streamlit."""
    from dashboards.serve import run_dashboard

    raise SystemExit(run_dashboard(resolve_settings(warehouse), port=port, extra_args=streamlit_args))


@cli.group(cls=KowGroup)
def cohort() -> None:
    """Researcher cohorts defined in YAML: members, attrition, outcomes and comparisons."""


@cohort.command("run")
@click.argument("definition", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@warehouse_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder [default: reports/cohorts/<definition name>].")
def cohort_run(definition: Path, warehouse: Path | None, out: Path | None) -> None:
    """Select DEFINITION's cohort; write attrition.csv, members.parquet, summary.csv and report.html."""
    from analysis.cohorts.run import run_cohort

    out_dir = out or Path("reports/cohorts") / definition.stem
    click.echo(run_cohort(definition, resolve_settings(warehouse), out_dir).describe())


@cohort.command("compare")
@click.argument("first", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("second", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@warehouse_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Also write compare.csv to this folder.")
def cohort_compare(first: Path, second: Path, warehouse: Path | None, out: Path | None) -> None:
    """Put two cohorts side by side: response and event rates, their differences with intervals."""
    from analysis.cohorts.compare import compare_cohorts

    click.echo(compare_cohorts(first, second, resolve_settings(warehouse), out).describe())


@cli.command()
@warehouse_option
@click.option("--cohort", "cohort_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default=None, help="Export only this cohort's rows (YAML definition).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="parquet", show_default=True,
              help="File format.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write.")
@click.option("--aggregates-only", is_flag=True,
              help="Only small-cell-suppressed aggregates (for sharing outside), no de-identified rows.")
def export(warehouse: Path | None, cohort_file: Path | None, fmt: str, out: Path, aggregates_only: bool) -> None:
    """Export the marts (de-identified rows) and suppressed aggregates, each with a manifest.json."""
    from kow.export import export_warehouse

    summary = export_warehouse(resolve_settings(warehouse), cohort=cohort_file, fmt=fmt, out_dir=out,
                               aggregates_only=aggregates_only)
    click.echo(summary.describe())


@cli.command()
@warehouse_option
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True, help="Port on localhost.")
def docs(warehouse: Path | None, port: int) -> None:
    """Generate the dbt docs site for the models and serve it on localhost until Ctrl-C."""
    from kow.export import serve_dbt_docs

    serve_dbt_docs(resolve_settings(warehouse), port, ready=lambda url: click.echo(f"dbt docs at {url}"))


def main() -> None:  # pragma: no cover - console entry for `python -m kow.cli`
    cli()


if __name__ == "__main__":  # pragma: no cover
    main()
