"""Where this dbt project keeps its tables for a target, as dbt itself decides it.

dbt_project.yml's +database/+schema, the sources YAML, generate_schema_name and the
profile (its DuckDB path and attachments) all take part, so `locate(target)` asks dbt: a
`dbt parse` for the model and source nodes, dbt's profile rendering for the connection.
The answer is kept in <target-path>/portfolio_embeddings_cli/<target>.json under a hash
of what it depends on: dbt_project.yml, the profiles.yml used, every file of the
folders dbt parsed (models, macros), the target name, and the values of every
PORTFOLIO_*/DBT_* environment variable and of every variable those files name in an
env_var() call. An unchanged project is then located without importing dbt.

No password is written to that file: an attachment whose URL holds one is kept as the
name of the environment variable it came from (the answer is not kept when there is
none).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]  # the checkout, for an editable install
PROJECT_NAME = "portfolio_embeddings"
SOURCE = "portfolio_risk"  # the sources YAML's name for the platform's tables
MODELS = ("numeric_window_embeddings", "joint_embeddings", "portfolio_feature_rejects",
          "int_portfolio_states", "int_portfolio_states_to_encode",
          "portfolio_reference_prototypes", "portfolio_reference_distances")  # fmt: skip
SOURCE_TABLES = ("portfolio_risk_reports",)
# The model whose compiled SQL `explain` reuses (the pipeline's one JSON classification).
ENTRIES_MODEL = "int_portfolio_feature_entries"
ENTRIES_INPUT = "int_portfolio_states_to_encode"
MEMO_VERSION = 3  # 3: the reference tables are located too

_ENV_VAR_CALL = re.compile(rb"""env_var\(\s*['"]([^'"]+)['"]""")
_ENV_PREFIXES = ("PORTFOLIO_", "DBT_")
_CONNECT_OPTIONS = ("extension_directory", "autoinstall_known_extensions",
                    "autoload_known_extensions")  # fmt: skip


class ProjectError(Exception):
    """dbt could not read the project or its profile for the target."""


@dataclass(frozen=True)
class Relation:
    database: str
    schema: str
    identifier: str
    relation_name: str  # quoted as dbt quotes it: "db"."schema"."identifier"


@dataclass(frozen=True)
class Attachment:
    alias: str
    path: str
    type: str | None
    read_only: bool


@dataclass(frozen=True)
class Locations:
    """The target's DuckDB file (`path`, catalog `database`), the databases it attaches
    (by alias), the DuckDB options that matter for reading, and the tables."""

    target: str
    path: str
    database: str
    attachments: dict[str, Attachment]
    config: dict
    relations: dict[str, Relation]
    entries_sql: str  # ENTRIES_MODEL compiled; it reads ENTRIES_INPUT's relation_name


def find_project_dir(explicit: str | Path | None = None) -> Path:
    """The dbt project the commands work on, from any current folder: `explicit`
    (--project-dir), else $PORTFOLIO_PROJECT_DIR, else the checkout this package was
    installed from (editable install), else the current folder or one above it."""
    given = explicit or os.environ.get("PORTFOLIO_PROJECT_DIR")
    if given:
        candidates = [Path(given).expanduser()]
    else:
        here = Path.cwd()
        candidates = [PROJECT_DIR, here, *here.parents]
    for folder in candidates:
        if _is_this_project(folder):
            return folder.resolve()
    if given:
        raise ProjectError(f"{given} is not the {PROJECT_NAME} dbt project (no dbt_project.yml "
                           f"named {PROJECT_NAME!r} there)")  # fmt: skip
    raise ProjectError(
        f"cannot find the {PROJECT_NAME} dbt project: pass --project-dir or set "
        "PORTFOLIO_PROJECT_DIR to the folder that holds its dbt_project.yml"
    )


def _is_this_project(folder: Path) -> bool:
    import yaml

    try:
        config = yaml.safe_load((folder / "dbt_project.yml").read_text())
    except (OSError, yaml.YAMLError):
        return False
    return isinstance(config, dict) and config.get("name") == PROJECT_NAME


def project_vars(project_dir: Path = PROJECT_DIR) -> dict:
    """The vars' defaults as dbt_project.yml declares them (their one home)."""
    import yaml  # dbt's own dependency; no Jinja in the vars block

    return yaml.safe_load((project_dir / "dbt_project.yml").read_text())["vars"]


def profiles_dir(project_dir: Path = PROJECT_DIR) -> Path:
    """The folder of the profiles.yml that dbt reads: DBT_PROFILES_DIR, else this
    project's own, else dbt's default (the current folder's, else ~/.dbt)."""
    if os.environ.get("DBT_PROFILES_DIR"):
        return Path(os.environ["DBT_PROFILES_DIR"]).resolve()
    for folder in (project_dir, Path.cwd()):
        if (folder / "profiles.yml").exists():
            return folder
    return Path.home() / ".dbt"


def in_project(path: str, project_dir: Path = PROJECT_DIR) -> str:
    """A path from the profile made absolute: dbt runs in the project folder."""
    if path == ":memory:" or ":" in path.split("/", 1)[0]:  # :memory:, URLs, md:
        return path
    return str(project_dir / Path(path).expanduser())


def locate(target: str, project_dir: Path = PROJECT_DIR) -> Locations:
    """The target's Locations, from the memo when nothing they depend on changed."""
    project_dir = project_dir.resolve()
    folder = project_dir / os.environ.get("DBT_TARGET_PATH", "target") / "portfolio_embeddings_cli"
    memo_file = folder / f"{target}.json"
    try:
        memo = json.loads(memo_file.read_text())
        if (
            memo["version"] == MEMO_VERSION
            and memo["key"] == _state(target, memo["folders"], project_dir)[0]
        ):
            return _decode(memo["locations"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    locations, folders = _ask_dbt(target, folder / "dbt", project_dir)
    key, env_names = _state(target, folders, project_dir)
    stored = _encode(locations, env_names)
    if stored is not None:
        folder.mkdir(parents=True, exist_ok=True)
        memo = {"version": MEMO_VERSION, "key": key, "folders": folders, "locations": stored}
        with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as out:
            json.dump(memo, out, indent=1)
        os.replace(out.name, memo_file)  # readers see the old memo or the new, never half
    return locations


def _state(target: str, folders: list[str], project_dir: Path) -> tuple[str, list[str]]:
    """The memo's key (a hash of everything the answer depends on) and the names of the
    environment variables in it."""
    files = [project_dir / "dbt_project.yml", profiles_dir(project_dir) / "profiles.yml"]
    for folder in folders:
        files += sorted(
            path
            for path in (project_dir / folder).rglob("*")
            if path.is_file()
            and not any(
                part.startswith((".", "__")) for part in path.relative_to(project_dir).parts
            )
        )
    digest = hashlib.sha256(f"{MEMO_VERSION}\0{project_dir}\0{target}\0{folders}\0".encode())
    names = {name for name in os.environ if name.startswith(_ENV_PREFIXES)}
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            data = None  # absent: dbt will say so when asked
        digest.update(f"{path}\0{-1 if data is None else len(data)}\0".encode() + (data or b""))
        names.update(name.decode() for name in _ENV_VAR_CALL.findall(data or b""))
    for name in sorted(names):
        value = os.environ.get(name)
        digest.update(f"{name}\0{'-' if value is None else '+' + value}\0".encode())
    return digest.hexdigest(), sorted(names)


def _ask_dbt(target: str, target_path: Path, project_dir: Path) -> tuple[Locations, list[str]]:
    """dbt's answer for the target, and the project folders its parse read."""
    from dbt.cli.main import dbtRunner
    from dbt.config.profile import Profile, read_profile
    from dbt.config.project import load_raw_project
    from dbt.config.renderer import ProfileRenderer
    from dbt_common.exceptions import DbtBaseException

    profiles = profiles_dir(project_dir)
    parsed = dbtRunner().invoke(
        ["parse", "--project-dir", str(project_dir), "--profiles-dir", str(profiles),
         "--target", target, "--target-path", str(target_path),
         "--log-level", "none", "--no-write-json"]
    )  # fmt: skip
    if not parsed.success:
        raise ProjectError(f"dbt cannot read the project for target {target!r}: "
                           f"{_one_line(parsed.exception)}")  # fmt: skip
    manifest = parsed.result
    compiled = dbtRunner(manifest=manifest).invoke(
        ["compile", "--select", ENTRIES_MODEL, "--project-dir", str(project_dir),
         "--profiles-dir", str(profiles), "--target", target, "--target-path",
         str(target_path), "--no-populate-cache", "--log-level", "none", "--no-write-json"]
    )  # fmt: skip
    if not compiled.success:
        raise ProjectError(f"dbt cannot compile {ENTRIES_MODEL} for target {target!r}: "
                           f"{_one_line(compiled.exception)}")  # fmt: skip
    entries_sql = compiled.result.results[0].node.compiled_code
    try:
        renderer = ProfileRenderer({})
        profile_name = renderer.render_value(load_raw_project(str(project_dir))["profile"])
        profile = Profile.from_raw_profiles(
            read_profile(str(profiles)), profile_name, renderer, target_override=target
        )
    except DbtBaseException as err:
        raise ProjectError(f"dbt cannot read the profile for target {target!r}: "
                           f"{_one_line(err)}") from None  # fmt: skip
    credentials = profile.credentials
    ours = [node for node in [*manifest.nodes.values(), *manifest.sources.values()]
            if node.package_name == manifest.metadata.project_name]  # fmt: skip
    relations = {
        node.name: Relation(node.database, node.schema, node.identifier, node.relation_name)
        for node in ours
        if (node.resource_type == "model" and node.name in MODELS)
        or (node.resource_type == "source" and node.source_name == SOURCE
            and node.name in SOURCE_TABLES)
    }  # fmt: skip
    missing = sorted(set(MODELS + SOURCE_TABLES) - set(relations))
    if missing:
        raise ProjectError(f"the dbt project has no {', '.join(missing)}")
    attachments = {}
    for attachment in getattr(credentials, "attach", None) or []:
        path = attachment.path
        if attachment.type in (None, "duckdb"):
            path = in_project(path, project_dir)
        alias = attachment.alias or Path(path).stem
        attachments[alias] = Attachment(alias, path, attachment.type, bool(attachment.read_only))
    options = getattr(credentials, "config_options", None) or {}
    config = {key: options[key] for key in _CONNECT_OPTIONS if key in options}
    if "extension_directory" in config:
        config["extension_directory"] = in_project(str(config["extension_directory"]), project_dir)
    locations = Locations(
        target=target,
        path=in_project(credentials.path, project_dir),
        database=credentials.database,
        attachments=attachments,
        config=config,
        relations=relations,
        entries_sql=entries_sql,
    )
    folders = sorted({
        str(source_file.path.searched_path)
        for source_file in manifest.files.values()
        if Path(source_file.path.project_root).resolve() == project_dir
    })  # fmt: skip
    return locations, folders


def _one_line(error) -> str:
    from portfolio_embeddings.credentials import passwords_in

    text = " ".join(str(error or "see dbt's log").split())
    for value in os.environ.values():
        for password in passwords_in(value):
            text = text.replace(password, "*****")
    return text


def _encode(locations: Locations, env_names: list[str]) -> dict | None:
    """Locations as JSON, each password-bearing path replaced by the name of the
    environment variable that holds it; None when one has no such variable."""
    from portfolio_embeddings.credentials import passwords_in

    def path(value: str):
        if not passwords_in(value):
            return value
        for name in env_names:
            if os.environ.get(name) == value:
                return {"env": name}
        raise LookupError(value)

    data = asdict(locations)
    try:
        data["path"] = path(locations.path)
        for alias, attachment in locations.attachments.items():
            data["attachments"][alias]["path"] = path(attachment.path)
    except LookupError:
        return None
    return data


def _decode(data: dict) -> Locations:
    def path(value):
        return os.environ[value["env"]] if isinstance(value, dict) else value

    return Locations(
        target=data["target"],
        path=path(data["path"]),
        database=data["database"],
        attachments={
            alias: Attachment(**{**attachment, "path": path(attachment["path"])})
            for alias, attachment in data["attachments"].items()
        },
        config=data["config"],
        relations={name: Relation(**rel) for name, rel in data["relations"].items()},
        entries_sql=data["entries_sql"],
    )
