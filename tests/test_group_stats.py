"""Group statistics on simulated cohorts: a planted difference is found, the false-positive rate holds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from brainrnn.fmri import group_stats as gs

from conftest import section

OPTIONS = gs.GroupTestOptions(covariates=("age", "sex", "mean_fd", "site"), reference_group=None,
                              n_permutations=499, measures=("g1_range", "mean_tau"))


def cohort(rng: np.random.Generator, n_per_group: int, effect: float, interaction: float = 0.0,
           n_regions: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two groups whose age differs and drives the measure (a confound), with ``effect`` (in SD) on g1_range
    and ``interaction`` on the τ-extremity slope of the patients."""
    groups = np.repeat(["control", "patient"], n_per_group)
    patient = groups == "patient"
    age = rng.normal(30, 8, groups.size) + 6 * patient
    subjects = pd.DataFrame({"subject": [f"s{i:02d}" for i in range(groups.size)], "group": groups, "age": age,
                             "sex": rng.choice(["F", "M"], groups.size), "mean_fd": rng.gamma(2, 0.05, groups.size),
                             "g1_range": 0.1 * (age - 30) + effect * patient + rng.standard_normal(groups.size),
                             "mean_tau": rng.normal(3, 0.5, groups.size)}).set_index("subject", drop=False)
    regions = []
    for subject, is_patient in zip(subjects.index, patient, strict=True):
        extremity = rng.uniform(0, 1, n_regions)
        slope = 1.5 - interaction * is_patient
        tau = 2 + slope * extremity + rng.normal(0, 0.3) + 0.3 * rng.standard_normal(n_regions)
        regions.append(pd.DataFrame({"subject": subject, "extremity": extremity, "tau_s": tau}))
    return subjects, pd.concat(regions, ignore_index=True)


def test_options_come_from_the_config_section():
    options = gs.GroupTestOptions.from_config(section("group_stats"))
    assert "mean_tau" in options.measures and options.n_permutations == 2000


def test_freedman_lane_holds_the_false_positive_rate_on_null_cohorts():
    """300 null cohorts (20 + 20, age confounded with group and measure), 199 permutations each: the share of
    p < 0.05 stays within [0.02, 0.09] (nominal 0.05 ± 3 binomial SD for 300 tests; measured 0.033)."""
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(300):
        subjects, _ = cohort(rng, 20, effect=0.0, n_regions=2)
        design = gs.design_matrix(subjects, ["control", "patient"], ["age", "sex"])
        _, p = gs.freedman_lane(subjects["g1_range"].to_numpy(), design.to_numpy(), 1, 199, rng)
        hits += p < 0.05
    assert 0.02 <= hits / 300 <= 0.09


def test_a_planted_group_difference_and_interaction_are_recovered_with_their_size():
    rng = np.random.default_rng(1)
    subjects, regions = cohort(rng, 30, effect=1.2, interaction=1.0)
    table = gs.group_statistics(subjects, regions, OPTIONS, rng).set_index(["test", "measure"])
    spread = table.loc[("group_difference", "g1_range")]
    assert spread["p_permutation"] < 0.01 and spread["q_fdr"] < 0.05
    assert spread["ci_low"] < 1.2 < spread["ci_high"] and spread["effect_size"] > 0.5
    null_measure = table.loc[("group_difference", "mean_tau")]
    assert null_measure["ci_low"] < 0 < null_measure["ci_high"]
    slope = table.loc[("extremity_interaction", "tau_s")]
    assert slope["ci_low"] < -1.0 < slope["ci_high"] and slope["p_parametric"] < 1e-6
    assert set(table["covariates"]) == {"age,sex,mean_fd"} and set(table["status"]) == {"tested"}
    assert table["q_fdr"].ge(table["p"]).all()


def test_one_group_is_reported_and_skipped():
    rng = np.random.default_rng(2)
    subjects, regions = cohort(rng, 5, effect=0.0)
    table = gs.group_statistics(subjects[subjects["group"] == "control"], regions, OPTIONS, rng)
    assert len(table) == 1 and table["status"].iloc[0].startswith("skipped: one group (control)")


def test_reference_group_and_categorical_covariates_in_the_design():
    subjects = pd.DataFrame({"group": ["b", "a", "c", "a"], "site": ["x", "y", "y", "x"], "age": [20, 30, 40, 50]})
    design = gs.design_matrix(subjects, ["b", "a", "c"], ["site", "age"])
    assert list(design.columns) == ["intercept", "group[a]", "group[c]", "site[y]", "age"]
    assert design["age"].mean() == 0 and list(design["group[a]"]) == [0, 1, 0, 1]


@pytest.mark.parametrize("values, expected", [([0.01, 0.04, 0.03, np.nan], [0.03, 0.04, 0.04, np.nan])])
def test_fdr_is_benjamini_hochberg(values, expected):
    assert np.allclose(gs.fdr(values), expected, equal_nan=True)
