# Last step: a checksum manifest of results/, so two runs can be compared byte for byte
# (`diff run1/results/checksums.sha256 run2/results/checksums.sha256`, or `sha256sum -c`).


rule checksum_manifest:
    input:
        all_targets(),
    output:
        manifest="results/checksums.sha256",
    log:
        "logs/checksum_manifest.log",
    localrule: True
    conda:
        "../envs/fmri.yaml"
    threads: 1
    resources:
        mem_mb=500,
        runtime=10,
    script:
        "../workflow_scripts/checksum_manifest.py"
