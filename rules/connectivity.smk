# Stage 2: the group mean of the subjects' functional connectivity (rules/timeseries.smk writes each subject's).


rule group_connectivity:
    input:
        fc=expand(rules.timeseries.output.fc, subject=STUDY.reference_subjects),
        tables=expand(rules.timeseries.output.table, subject=STUDY.reference_subjects),
        metas=expand(rules.timeseries.output.meta, subject=STUDY.reference_subjects),
    output:
        fc="results/fmri/group/fc.npy",
        regions="results/fmri/group/regions.tsv",
    log:
        "logs/group_connectivity.log",
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    params:
        fisher_z=config["connectivity"]["fisher_z"],
        source=SOURCE,
        regions=config["fmri"]["regions"],
        template=config["gradients"]["orientation"]["template"],
        atlas=config["fmri"]["bids"]["atlas"],
        labels=source_labels_file(config, STUDY.manifest),
    script:
        "../workflow_scripts/group_connectivity.py"
