# Stage 6: group statistics of the fMRI measures (skipped, with a note, when the sheet has one group).


rule group_statistics:
    input:
        spread=rules.gradient_spread.output.spread,
        timescales=per_subject(rules.timescales.output.timescales),
        gradients=per_subject(rules.gradients.output.gradients),
    output:
        statistics="results/fmri/group_statistics.tsv",
    log:
        "logs/group_statistics.log",
    benchmark:
        "benchmarks/group_statistics/group_statistics.tsv"
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        subjects=list(SUBJECTS.index),
        sheet=covariate_columns(),
        settings=config["group_stats"],
        seed=config["seed"],
    script:
        "../workflow_scripts/group_statistics.py"
