# Shared set-up: the validated study (config, subjects sheet, data checks, all in the library),
# the vocabularies the rules build wildcards and targets from, and the input functions.
import copy
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# the library, also where it is not installed (a conda environment); the jobs' scripts find it
# through workflow_scripts/brainrnn, a link to src/brainrnn (Snakemake puts a script's folder on its path)
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from brainrnn import cbrnn, fmri, gradreg, jedi, lowrank, microns
from brainrnn.config import (
    MICRONS_SHIPPED,
    known_region_names,
    load_study,
    settings_without,
    source_labels_file,
    subject_tr,
)
from brainrnn.download import file_name
from brainrnn.errors import InputError
from brainrnn.fmri import bids
from brainrnn.fmri import timeseries as ts
from brainrnn.io import check_results_folder
from brainrnn.lowrank.choices import check_choice_tables
from brainrnn.seeding import derive_seed

try:
    STUDY = load_study(
        config, Path(workflow.basedir) / "config" / "schemas", workflow.configfiles
    )
    check_results_folder(
        "results", min_free_mb=config["min_free_disk_mb"], setting="min_free_disk_mb"
    )
    if config["lowrank"]["enabled"]:
        check_choice_tables(config["lowrank"])
except InputError as error:
    raise WorkflowError(f"Invalid input: {error}") from None

SUBJECTS = STUDY.subjects
SOURCE = STUDY.source
# where the region names are only known once a series is read (a download without labels, bids
# without atlas labels), each time-series job checks that G1 can be oriented; elsewhere the parse did
ORIENTATION_CHECK = (
    config["gradients"]["orientation"]
    if known_region_names(config, SUBJECTS, STUDY.manifest) is None
    else None
)
GRADREG = config["gradreg"]
CBRNN = config["cbrnn"]
MICRONS = config["microns"]
MICRONS_TRAINED = MICRONS["enabled"] and MICRONS["train"]
LOWRANK = config["lowrank"]
JEDI = config["jedi"]
FAMILIES = [
    family
    for family, enabled in (
        ("fmri", True),
        ("gradreg", GRADREG["enabled"]),
        ("cbrnn", CBRNN["enabled"]),
        ("microns", MICRONS_TRAINED),
        ("lowrank", LOWRANK["enabled"]),
        ("jedi", JEDI["enabled"]),
    )
    if enabled
]
TITLES = {
    "fmri": fmri.TITLE,
    "gradreg": gradreg.TITLE,
    "cbrnn": cbrnn.TITLE,
    "microns": microns.TITLE,
    "lowrank": lowrank.TITLE,
    "jedi": jedi.TITLE,
}
FIGURES = {
    "fmri": fmri.FIGURES,
    "gradreg": gradreg.FIGURES,
    "cbrnn": cbrnn.FIGURES,
    "microns": microns.FIGURES,
    "lowrank": lowrank.FIGURES,
    "jedi": jedi.FIGURES,
}

# Training params leave out the keys that only select what runs (variants, tasks, seeds, analysis
# sizes), so adding a variant, task or mode reruns no model that is already trained; which subjects
# form the reference is expressed by the inputs, so fixing reference_subjects reruns nothing.
GRADIENT_SETTINGS = settings_without(config["gradients"], "reference_subjects")
GRADREG_SETTINGS = settings_without(
    GRADREG, "enabled", "variants", "seeds", "compression"
)
COMPRESSION = GRADREG["compression"]["enabled"]
GRADREG_VARIANTS = GRADREG["variants"] + [
    gradreg.compression_variant(variant, scale)
    for variant in (GRADREG["compression"]["variants"] if COMPRESSION else [])
    for scale in GRADREG["compression"]["scales"]
]
"""Every trained variant: the configured ones, and the compression runs when the experiment is on."""
CBRNN_SETTINGS = settings_without(
    CBRNN, "enabled", "seeds", "ablation_trials", "dimensionality_trials"
)
# the end-to-end groups do not read the freeze protocol: changing it retrains only the freeze groups
CBRNN_END_TO_END_SETTINGS = settings_without(CBRNN_SETTINGS, "freeze", "level_one")
MICRONS_TRAINING_SETTINGS = settings_without(
    MICRONS,
    "enabled",
    "source",
    "fields",
    "folder",
    "inf_md",
    "manifest",
    "train",
    "variants",
    "modes",
    "tasks",
    "seeds",
    "n_nulls",
    "synthetic",
)
JEDI_DATA_SETTINGS = {key: JEDI[key] for key in ("teachers", "observation", "trials")}
"""What the simulated recordings depend on (the teachers' settings, since they are retrained on a change)."""
JEDI_FIT_SETTINGS = settings_without(
    JEDI, "enabled", "networks", "teachers", "fits", "classification", "fixed_points"
)
# With device: cuda every job that runs networks on the device (training, fixed points) asks its
# executor for one GPU (slurm: --gpus=1); auto and cpu ask for none (auto still uses a GPU where
# the node has one).
DEVICE_GPUS = 1 if config["device"] == "cuda" else 0
LOWRANK_READS = {
    "simulate": ("task_settings", "choices", "agent_parameters", "analysis"),
    "cognitive": ("task_settings",),
    "train": (
        "task_settings",
        "network",
        "developmental",
        "regularisation",
        "optimiser",
        "fit",
        "act",
        "analysis",
    ),
    "gru": ("task_settings", "gru", "optimiser", "fit", "act", "analysis"),
}
"""The lowrank keys each kind of job reads (its params): changing another key reruns none of its jobs."""
FIXED_POINT_SEEDS = {
    family: seeds
    for family, seeds, enabled in (
        ("gradreg", GRADREG["seeds"], GRADREG["enabled"]),
        ("cbrnn", CBRNN["seeds"], CBRNN["enabled"]),
        ("microns", MICRONS["seeds"], MICRONS_TRAINED),
        (
            "lowrank",
            [
                seed
                for seed in LOWRANK["seeds"]
                if LOWRANK["fixed_point_seeds"] is None
                or seed in LOWRANK["fixed_point_seeds"]
            ],
            LOWRANK["enabled"],
        ),
    )
    if enabled
}
"""The seeds of every trained family: one fixed-point job analyses the models of all of them."""
MICRONS_VARIANT_OF_SLUG = {
    microns.slug(name): name for name in microns.VARIANTS + microns.CONTROLS
}


def one_of(names):
    """A wildcard constraint that accepts exactly these names."""
    return "|".join(
        re.escape(str(name)) for name in sorted(names, key=len, reverse=True)
    )


wildcard_constraints:
    subject="[A-Za-z0-9]+",
    filename="[A-Za-z0-9_.-]+",
    seed="[0-9]+",
    family=one_of(["gradreg", "cbrnn", "microns", "lowrank"]),
    run="(?:[A-Za-z0-9_.-]+/)*[A-Za-z0-9_.-]+",


def plain_paths(files):
    """Paths with no producer attached. For a job that also takes one file per run, Snakemake
    (9.27) matches every input file against every rule-referenced input by hashing whole input lists, which
    made planning quadratic in the cohort (measured: 2.2 s per gradreg summary or figure job at 300
    subjects); plain paths are matched to their rules through the output index instead.
    """
    return str(files) if isinstance(files, str) else [str(path) for path in files]


def per_subject(pattern):
    return expand(pattern, subject=SUBJECTS.index)


def timeseries_inputs(wildcards):
    """The raw data one subject's time series is made from, for every source."""
    subject = wildcards.subject
    if SOURCE == "demo":
        return {"data": str(ts.demo_file(subject))}
    if SOURCE == "timeseries":
        return {"data": SUBJECTS.at[subject, "timeseries"]}
    if SOURCE == "download":
        url = STUDY.manifest.at[subject, "url"]
        return {"data": f"results/downloads/fmri/sub-{subject}/{file_name(url)}"}
    fmri_bids = config["fmri"]["bids"]
    runs = bids.find_runs(
        fmri_bids["derivatives"], subject, fmri_bids["task"], fmri_bids["space"]
    )
    return {"data": [str(run) for run in runs], "atlas": fmri_bids["atlas"]}


def timeseries_tr(wildcards):
    """TR for sources that do not record it; bids reads its own, demo is HCP's 0.72 s."""
    if SOURCE in ("timeseries", "download"):
        return subject_tr(
            SUBJECTS,
            wildcards.subject,
            config["fmri"]["tr"],
            sheet_path=config["subjects"],
        )
    return ts.DEMO_TR_S if SOURCE == "demo" else None


def covariate_columns():
    """The sheet columns the group statistics may adjust for (subject first), as lists."""
    columns = ["subject"] + [
        column for column in ("age", "sex", "site") if column in SUBJECTS.columns
    ]
    return {column: list(SUBJECTS[column]) for column in columns}


def manifest_entry(wildcards, column):
    manifest = STUDY.manifest
    value = manifest.at[wildcards.subject, column] if column in manifest.columns else ""
    return value or None


def gradreg_runs():
    """Variant, subject and seed of every gradient-regularised network, in one fixed order."""
    return [
        {"variant": variant, "subject": subject, "seed": seed}
        for variant in GRADREG_VARIANTS
        for subject in SUBJECTS.index
        for seed in GRADREG["seeds"]
    ]


def gradreg_outputs(name):
    """One file per variant x subject x seed (the order of gradreg_runs)."""
    return [
        f"results/rnn/gradreg/{run['variant']}/sub-{run['subject']}/seed-{run['seed']}/{name}"
        for run in gradreg_runs()
    ]


def cbrnn_runs():
    """Group and seed of every cortico-cerebellar network, in one fixed order."""
    return [
        {"group": group, "seed": seed}
        for group in cbrnn.GROUPS
        for seed in CBRNN["seeds"]
    ]


def cbrnn_outputs(name):
    """One file per group x seed (the order of cbrnn_runs)."""
    return [
        f"results/rnn/cbrnn/{run['group']}/seed-{run['seed']}/{name}"
        for run in cbrnn_runs()
    ]


def cbrnn_snapshots(group, seeds):
    """Each seed's network as it was when it passed each analysis level (seed-major, levels in config order)."""
    return [
        f"results/rnn/cbrnn/{group}/seed-{seed}/level-{level}.pt"
        for seed in seeds
        for level in CBRNN["analysis_levels"]
    ]


def cbrnn_core_input(wildcards):
    """The trained gradient-regularised network that seeds the CB-RNN's core, if configured."""
    core = CBRNN["core"]
    if core["source"] != "gradreg":
        return {}
    return {
        "core": f"results/rnn/gradreg/{core['variant']}/sub-{core['subject']}/seed-{core['seed']}/model.pt"
    }


def microns_outputs(name):
    """One file per mode x field x variant x task x seed of the MICrONS-constrained family."""
    return expand(
        "results/rnn/microns/{mode}/{field}/{variant}/{task}/seed-{seed}/{name}",
        mode=MICRONS["modes"],
        field=MICRONS["fields"],
        variant=[microns.slug(name) for name in MICRONS["variants"]],
        task=MICRONS["tasks"],
        seed=MICRONS["seeds"],
        name=name,
    )


def microns_archive(field):
    """The manifest row of a field that comes as an archive (non-empty 'extract'), or None."""
    if MICRONS["source"] != "download" or field == "synthetic":
        return None
    rows = STUDY.microns_manifest[STUDY.microns_manifest["field"] == field]
    archives = rows[rows["extract"] != ""]
    return None if archives.empty else archives.iloc[0]


def microns_field_folder(wildcards):
    """The folder holding <field>/ for load_field: downloads, an unpacked archive, or microns.folder."""
    archive = microns_archive(wildcards.field)
    if archive is not None:
        return f"results/extracted/microns/{wildcards.field}/{archive['file']}/{archive['extract']}"
    if MICRONS["source"] == "download":
        return "results/downloads/microns"
    if MICRONS["source"] == "shipped":
        return str(MICRONS_SHIPPED)
    return MICRONS["folder"]


def microns_checksums(wildcards):
    """SHA-256 of each file of a shipped field, by file name (none for the other sources: downloads are
    verified as they arrive, a local folder is the user's)."""
    if MICRONS["source"] != "shipped" or wildcards.field == "synthetic":
        return {}
    rows = STUDY.microns_manifest[STUDY.microns_manifest["field"] == wildcards.field]
    return dict(zip(rows["file"], rows["sha256"]))


def microns_field_files(wildcards):
    """The raw files of one field (none for the synthetic field, which is generated; a folder for an archive)."""
    if wildcards.field == "synthetic":
        return []
    archive = microns_archive(wildcards.field)
    if archive is not None:
        return [f"results/extracted/microns/{wildcards.field}/{archive['file']}"]
    folder = microns_field_folder(wildcards)
    return [
        f"{folder}/{wildcards.field}/{name.format(field=wildcards.field)}"
        for name in microns.FIELD_FILES
    ]


def lowrank_settings(task, reads):
    """The lowrank keys a kind of job reads (LOWRANK_READS), with only this task's settings and data source:
    adding a task, mode or configuration, or changing what other jobs read, reruns no trained model.
    """
    settings = {key: copy.deepcopy(LOWRANK[key]) for key in LOWRANK_READS[reads]}
    settings["task_settings"] = {task: settings["task_settings"][task]}
    if "choices" in settings:
        for key in ("agents", "tables"):
            settings["choices"][key] = {task: settings["choices"][key][task]}
    return settings


def lowrank_configurations(developmental_only=False):
    """The configuration folders of the low-rank family: premature, mature, gru-<units>."""
    names = [
        name for name in LOWRANK["configurations"] if name in lowrank.DEVELOPMENTAL
    ]
    if "gru" in LOWRANK["configurations"] and not developmental_only:
        names += [lowrank.gru_name(units) for units in LOWRANK["gru"]["units"]]
    return names


def lowrank_runs(developmental_only=False, seeds=None):
    """Mode, task, configuration and seed of every low-rank-family network, in one fixed order."""
    return [
        {"mode": mode, "task": task, "configuration": configuration, "seed": seed}
        for mode in LOWRANK["modes"]
        for task in LOWRANK["tasks"]
        for configuration in lowrank_configurations(developmental_only)
        for seed in (LOWRANK["seeds"] if seeds is None else seeds)
    ]


def lowrank_outputs(name, developmental_only=False, seeds=None):
    """One file per run of lowrank_runs (the order of lowrank_runs)."""
    return [
        "results/rnn/lowrank/{mode}/{task}/{configuration}/seed-{seed}/".format(**run)
        + name
        for run in lowrank_runs(developmental_only, seeds)
    ]


def lowrank_fixed_point_seeds():
    """The low-rank seeds whose networks go through the fixed-point stage."""
    return FIXED_POINT_SEEDS.get("lowrank", [])


def lowrank_choice_input(wildcards):
    """A subject's own choice table for the task, when configured."""
    table = LOWRANK["choices"]["tables"][wildcards.task]
    return {} if table is None else {"table": table}


def lowrank_fit_input(wildcards):
    """The choice data sets a fit-mode job trains on (none in act mode)."""
    if wildcards.mode != "fit":
        return {}
    return {
        "tables": expand(
            "results/lowrank/choices/{task}/seed-{seed}.tsv",
            task=wildcards.task,
            seed=LOWRANK["seeds"],
        ),
        "records": expand(
            "results/lowrank/choices/{task}/seed-{seed}.json",
            task=wildcards.task,
            seed=LOWRANK["seeds"],
        ),
    }


def figure_files(names):
    return expand("results/figures/{name}.{ext}", name=names, ext=["png", "pdf"])


def family_figures(family):
    """The stage figures and the family figure of one family."""
    return figure_files(
        [f"{family}_{stem}" for stem in FIGURES[family]] + [f"family_{family}"]
    )


def family_targets(family):
    """What `snakemake <family>` makes: the family's tables and figures."""
    if family == "fmri":
        tables = [
            *per_subject("results/fmri/sub-{subject}/timescales.tsv"),
            *per_subject("results/fmri/sub-{subject}/gradients.tsv"),
            "results/fmri/gradient_spread.tsv",
            "results/fmri/timescale_gradient.tsv",
            "results/fmri/group_statistics.tsv",
        ]
    elif family == "gradreg":
        tables = [
            "results/summary/gradreg.tsv",
            "results/summary/gradreg_vs_spread.tsv",
        ]
    elif family == "cbrnn":
        tables = ["results/summary/cbrnn.tsv"]
    elif family == "lowrank":
        tables = [
            "results/summary/lowrank.tsv",
            "results/summary/lowrank_predictions.tsv",
        ]
        if LOWRANK["bridge"]["enabled"]:
            tables.append("results/summary/lowrank_bridge.tsv")
    elif family == "jedi":
        tables = ["results/summary/jedi.tsv"]
    else:
        tables = expand("results/microns/{field}/quality.json", field=MICRONS["fields"])
        if not MICRONS_TRAINED:
            return tables
        tables += ["results/summary/microns.tsv", "results/summary/microns_tests.tsv"]
    return tables + family_figures(family)


def all_targets():
    """Every enabled family's tables and figures, the overview and the report's configuration page."""
    targets = [target for family in FAMILIES for target in family_targets(family)]
    if MICRONS["enabled"] and not MICRONS_TRAINED:
        targets += family_targets("microns")
    return targets + figure_files(["overview"]) + ["results/report/config.html"]


def family_inputs(family):
    """The tables one family's figures are drawn from, by name (the loader's arguments)."""
    if family == "fmri":
        return {
            "reference": rules.reference_gradients.output.gradients,
            "gradients": per_subject(rules.gradients.output.gradients),
            "timescales": per_subject(rules.timescales.output.timescales),
            "spread": rules.gradient_spread.output.spread,
            "relation": rules.timescale_gradient.output.relation,
            "statistics": rules.group_statistics.output.statistics,
        }
    if family == "gradreg":
        return {
            "histories": gradreg_outputs("history.tsv"),
            "points": gradreg_outputs("fixed_points.npz"),
            "summary": rules.summarise_gradreg.output.summary,
            "correlations": rules.summarise_gradreg.output.versus_spread,
        }
    if family == "cbrnn":
        return {
            "summary": rules.summarise_cbrnn.output.summary,
            "curves": rules.summarise_cbrnn.output.curves,
            "ablation": rules.summarise_cbrnn.output.ablation,
            "dimensionality": rules.summarise_cbrnn.output.dimensionality,
            "runs": rules.summarise_cbrnn.output.runs,
        }
    if family == "lowrank":
        tables = {
            name: getattr(rules.summarise_lowrank.output, name)
            for name in ("summary", "runs", "predictions", "spectra", "curves")
        }
        if LOWRANK["bridge"]["enabled"]:
            tables["bridge"] = rules.lowrank_bridge.output.bridge
        return tables
    if family == "jedi":
        return {
            "summary": rules.summarise_jedi.output.summary,
            "fit_table": rules.summarise_jedi.output.fits,
            "classification": rules.summarise_jedi.output.classification,
            "confusion": rules.summarise_jedi.output.confusion,
            "few_shot": rules.summarise_jedi.output.few_shot,
            "frequency": rules.summarise_jedi.output.frequency,
            "embeddings": "results/jedi/fits/jedi/embeddings.tsv",
            "contexts": rules.simulate_jedi.output.contexts,
            "spectra": rules.fixed_points_jedi.output.spectra,
        }
    return {
        "summary": rules.summarise_microns.output.summary,
        "runs": rules.summarise_microns.output.runs,
        "tests": rules.summarise_microns.output.tests,
        "reported": "resources/microns/reported_accuracy.tsv",
    }


def loader_params(family):
    """What the family's loader needs besides the tables: subjects, the keys of each run's files."""
    if family == "fmri":
        return {"subjects": list(SUBJECTS.index)}
    if family == "gradreg":
        return {"keys": gradreg_runs(), "variants": GRADREG["variants"]}
    if family == "cbrnn":
        return {}
    if family == "lowrank":
        return {
            "configurations": LOWRANK["configurations"],
            "tasks": LOWRANK["tasks"],
            "modes": LOWRANK["modes"],
        }
    if family == "jedi":
        return {"fits": JEDI["fits"]}
    return {"variants": MICRONS["variants"], "tasks": MICRONS["tasks"]}


def jedi_network_models():
    """The saved networks other families trained that JEDI observes as contexts."""
    return [f"results/rnn/{network}/model.pt" for network in JEDI["networks"]]
