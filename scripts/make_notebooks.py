"""Write the example notebooks in notebooks/ (outputs stripped; tests/test_notebooks.py
executes them and checks that they match this script).

Rules every notebook follows (checked by the test):
- each code cell is preceded by a markdown cell telling a newcomer what the cell shows;
- each code cell ends by displaying something, so that a reader sees a result;
- every claim the prose makes is an `assert` in the code, so a notebook whose prose has
  gone stale fails the test suite instead of printing a contradiction.

Usage: python scripts/make_notebooks.py [OUT_DIR]   (default: notebooks/)
"""

import sys
from pathlib import Path

import nbformat as nbf

NB = {
    "01_quickstart": [
        ("md", "# Quickstart: load, validate, fit, read P(benefit)\n\n"
               "The question: does resecting the primary tumour (PTR) help patients with "
               "liver-metastatic gastroenteropancreatic neuroendocrine tumours (GEP-NETs)? "
               "The evidence is shipped with bayesnet as a curated table of published hazard "
               "ratios (HR < 1 favours resection)."),
        ("md", "**Load the evidence.** `load_evidence` reads the shipped dataset, applies the "
               "primary selection (one estimate per source population) and derives a log-HR and "
               "its standard error for every row. The table below is what the model will see: one "
               "row per study, with the derivation used for each."),
        ("code", "from pathlib import Path\n\n"
                 "import bayesnet\n"
                 "from bayesnet.evidence import load_evidence\n\n"
                 "ev = load_evidence(dataset='gepnet_ptr', select='primary', base_dir=Path('../models'))\n"
                 "t = ev.table\n"
                 "assert t['study'].is_unique, 'one row per study'\n"
                 "assert (t['se'] > 0).all() and t['log_hr'].notna().all(), 'every row has a usable log-HR and SE'\n"
                 "ev.display_table()"),
        ("md", "**What was left out, and why.** Every row of the dataset that the primary selection "
               "did not keep is listed with its reason; nothing is dropped silently."),
        ("code", "ex = ev.excluded\n"
                 "assert ex['reason'].astype(str).str.strip().ne('').all(), 'every exclusion has a reason'\n"
                 "ex[['study', 'reason']]"),
        ("md", "**Fit the primary analysis.** The spec `models/ptr_random_effects.toml` says which "
               "data, model and priors to use. A random-effects model on log-HRs can be computed "
               "exactly (no sampling), so `fit` picks the exact engine. The pooled HR is the average "
               "effect; the predictive HR is the effect to expect in a new setting, so its interval "
               "is wider than the pooled one because it adds the between-study spread."),
        ("code", "post = bayesnet.fit('../models/ptr_random_effects.toml')\n"
                 "s = post.summary()\n"
                 "assert post.engine == 'exact' and s['status'] == 'ok'\n"
                 "lo, hi = s['pooled']['hr']['ci95']\n"
                 "plo, phi = s['predictive']['hr']['ci95']\n"
                 "assert plo < lo < hi < phi, 'the predictive interval contains the pooled one'\n"
                 "print(f\"pooled HR {s['pooled']['hr']['median']:.2f} (95% CrI {lo:.2f}-{hi:.2f})\")\n"
                 "print(f'predictive HR in a new setting: 95% interval {plo:.2f}-{phi:.2f}')"),
        ("md", "**Probabilities a panel asks for.** `s['prob']` holds P(HR < 1) (any benefit), "
               "P(HR < 0.8) (a clinically relevant benefit) and P(HR > 1.25) (harm), for the pooled "
               "and for the predictive HR. A stricter threshold can only be less probable."),
        ("code", "pp = s['prob']['pooled']\n"
                 "assert pp['p_hr_lt_0.8'] <= pp['p_hr_lt_1']\n"
                 "s['prob']"),
        ("md", "**One posterior object answers every question.** `post.prob` gives P(HR < x) for any "
               "x, here P(HR < 0.7) in a new setting (it lies between P(HR < 0.6) and P(HR < 0.8)); "
               "`post.tidy()` is the whole summary as a tidy table."),
        ("code", "p07 = post.prob('predictive', 0.7)\n"
                 "assert post.prob('predictive', 0.6) <= p07 <= post.prob('predictive', 0.8)\n"
                 "print(f'P(HR < 0.7 in a new setting) = {p07:.3f}')\n"
                 "post.tidy().head()"),
    ],
    "02_design_covariates": [
        ("md", "# Design covariates: registry cohorts vs institutional series\n\n"
               "Registry cohorts and single-institution series may differ in how patients were "
               "selected for surgery. A meta-regression on `source_type` estimates the HR in each "
               "kind of study and their ratio."),
        ("md", "**Fit the meta-regression.** `models/ptr_design_regression.toml` adds `source_type` "
               "as a covariate with registry cohorts as the reference level. Each line shows one "
               "stratum: its median HR, 95% credible interval and P(HR < 0.8)."),
        ("code", "import bayesnet\n\n"
                 "post = bayesnet.fit('../models/ptr_design_regression.toml')\n"
                 "s = post.summary()\n"
                 "strata = s['strata']['source_type']\n"
                 "assert set(strata) == {'registry', 'institutional'} and strata['registry']['reference']\n"
                 "def fmt_p(p):  # a probability as a panel reads it: never '1.000'\n"
                 "    return '> 0.999' if p > 0.999 else '< 0.001' if p < 0.001 else f'= {p:.3f}'\n\n"
                 "for lev, v in strata.items():\n"
                 "    lo, hi = v['hr']['ci95']\n"
                 "    print(f\"{lev:14s} HR {v['hr']['median']:.2f} ({lo:.2f}-{hi:.2f}), \"\n"
                 "          f\"P(HR < 0.8) {fmt_p(v['prob']['p_hr_lt_0.8'])}\")"),
        ("md", "**The design coefficient.** `hr_ratio` is the ratio of the institutional HR to the "
               "registry HR (1 = no difference by design); `p_ratio_lt_1` is P(HR ratio < 1), the probability that "
               "institutional series show the larger benefit."),
        ("code", "coef = s['coefficients']['source_type:institutional']\n"
                 "assert 0 <= coef['p_ratio_lt_1'] <= 1\n"
                 "coef"),
        ("md", "**The exact and MCMC engines agree.** The same model fitted by sampling (PyMC with "
               "nutpie, slower) must give the same posterior up to Monte Carlo error. We compare the "
               "median and the 95% interval bounds of each stratum's log-HR and of the design "
               "coefficient, and "
               "require each difference to be below 4 Monte Carlo standard errors (MCSE, from "
               "ArviZ): if the engines agree, a larger difference happens by chance with "
               "probability below 1 in 10,000 per comparison. The sampler must also pass its "
               "own diagnostics (R-hat, effective sample size, divergences)."),
        ("code", "import arviz as az\n"
                 "import numpy as np\n"
                 "import pandas as pd\n"
                 "import xarray as xr\n\n"
                 "mc = bayesnet.fit('../models/ptr_design_regression.toml', engine='mcmc', log_likelihood=False)\n"
                 "assert mc.ok, mc.diagnostics\n\n"
                 "def mcse_quantile(draws, p):\n"
                 "    ds = xr.Dataset({'q': (('chain', 'draw'), np.asarray(draws))})\n"
                 "    return float(az.mcse(ds, method='quantile', prob=p)['q'])\n\n"
                 "keys = [('stratum', 'source_type', lev) for lev in strata] + [('coef', 'source_type:institutional')]\n"
                 "rows = []\n"
                 "for key in keys:\n"
                 "    d = mc[key].draws\n"
                 "    for p in (0.025, 0.5, 0.975):\n"
                 "        exact, sampled = post[key].quantile([p])[0], np.quantile(d, p)\n"
                 "        rows.append({'quantity': ' '.join(key), 'quantile': p, 'exact log-HR': exact,\n"
                 "                     'MCMC log-HR': sampled, 'difference / MCSE': (sampled - exact) / mcse_quantile(d, p)})\n"
                 "agree = pd.DataFrame(rows)\n"
                 "assert (agree['difference / MCSE'].abs() < 4).all(), 'the engines disagree beyond Monte Carlo error'\n"
                 "agree.round(3)"),
    ],
    "03_prior_sensitivity": [
        ("md", "# Prior sensitivity: a community of priors and influence\n\n"
               "A conclusion a panel can rely on should not hinge on one prior or one study."),
        ("md", "**The community of priors** (Spiegelhalter et al. 1994): two normal priors on the "
               "pooled log-HR built from the clinical threshold HR 0.8. The sceptical prior is centred "
               "on no effect and gives only 5% probability to HR < 0.8; the enthusiastic prior is "
               "centred on HR 0.8 and gives only 5% probability to harm (HR > 1)."),
        ("code", "import math\n\n"
                 "from scipy import stats\n\n"
                 "from bayesnet.sensitivity import community_priors, influence, sweep\n\n"
                 "cp = community_priors([1.0, 0.8])\n"
                 "sc, en = cp['sceptical'].params, cp['enthusiastic'].params\n"
                 "assert math.isclose(stats.norm.cdf(math.log(0.8), sc['mu'], sc['sigma']), 0.05)\n"
                 "assert math.isclose(stats.norm.sf(0.0, en['mu'], en['sigma']), 0.05)\n"
                 "{name: prior.label for name, prior in cp.items()}"),
        ("md", "**The prior sweep.** The primary analysis is refitted under every combination of "
               "the default priors for tau (the between-study SD) and for mu (the pooled log-HR): "
               "one row per combination, with the pooled HR, its interval and the probability of "
               "a clinically relevant benefit (pooled and in a new setting)."),
        ("code", "from bayesnet.sensitivity import default_grid\n\n"
                 "grid = default_grid([1.0, 0.8])\n"
                 "df = sweep('../models/ptr_random_effects.toml')\n"
                 "assert len(df) == len(grid['tau']) * len(grid['mu']), 'one row per prior combination'\n"
                 "assert ((df['hr_low'] <= df['hr_median']) & (df['hr_median'] <= df['hr_high'])).all()\n"
                 "df[['tau_prior', 'mu_prior', 'hr_median', 'hr_low', 'hr_high', 'p_hr_lt_0.8', 'p_pred_hr_lt_0.8']]"),
        ("md", "**Influence.** The analysis is refitted leaving out one study at a time (row "
               "`kind = study`). `d_p_pred_hr_lt_0.8` is how much leaving the study out changes the "
               "probability of a clinically relevant benefit in a new setting; `flag` marks the "
               "single most influential study."),
        ("code", "inf = influence('../models/ptr_random_effects.toml')\n"
                 "studies = inf[inf['kind'] == 'study']\n"
                 "post = __import__('bayesnet').fit('../models/ptr_random_effects.toml')\n"
                 "assert len(studies) == post.k, 'one refit per study'\n"
                 "assert inf['flag'].sum() == 1\n"
                 "inf[['omitted', 'kind', 'hr_median', 'd_p_pred_hr_lt_0.8', 'flag']]"),
        ("md", "**The sweep as a figure**: one pooled-HR interval per prior combination, so a "
               "reader sees at a glance whether the priors move the conclusion."),
        ("code", "from bayesnet import plots\n\n"
                 "fig = plots.sweep_plot(df)\n"
                 "assert fig.axes, 'the figure has a panel'\n"
                 "fig"),
    ],
    "04_panel_report": [
        ("md", "# The panel report\n\n"
               "One call writes everything a guideline panel reads."),
        ("md", "**Write the report** of the primary analysis into a temporary directory. It holds "
               "report.html (self-contained: open it in a browser), report.md, summary.json (every "
               "number), studies.csv and the figures."),
        ("code", "import json\n"
                 "import pathlib\n"
                 "import tempfile\n\n"
                 "from bayesnet.report import write_report\n\n"
                 "out = write_report('../models/ptr_random_effects.toml', pathlib.Path(tempfile.mkdtemp()) / 'report')\n"
                 "rep = json.loads((out / 'summary.json').read_text())  # every number the report shows\n"
                 "names = sorted(p.name for p in out.iterdir())\n"
                 "assert {'report.html', 'report.md', 'summary.json', 'studies.csv', 'figures'} <= set(names), names\n"
                 "names"),
        ("md", "**GRADE-ready statements.** Sentences for the GRADE domains imprecision (one per "
               "threshold) and inconsistency, then heterogeneity and robustness to the prior, each "
               "computed from the numbers above rather than written by hand."),
        ("code", "from bayesnet.report import grade_statements\n\n"
                 "lines = grade_statements(rep)\n"
                 "assert any(x.startswith('Imprecision') for x in lines)\n"
                 "assert any(x.startswith('Inconsistency') for x in lines)\n"
                 "for line in lines:\n"
                 "    print('-', line)"),
    ],
}


def build() -> dict:
    """The notebooks as nbformat objects, by name."""
    out = {}
    for name, cells in NB.items():
        nb = nbf.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
                    for kind, src in cells]
        for i, cell in enumerate(nb.cells):  # stable ids: regenerating changes nothing
            cell.id = f"cell-{i:02d}"
        out[name] = nb
    return out


def main(argv: list[str]) -> None:
    out_dir = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1] / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, nb in build().items():
        nbf.write(nb, out_dir / f"{name}.ipynb")


if __name__ == "__main__":
    main(sys.argv)
