"""Write the example notebooks in notebooks/ (outputs stripped; tests/test_notebooks.py
executes them and checks that they match this script).

Rules every notebook follows (checked by the test):
- each code cell is preceded by a markdown cell telling a newcomer what the cell shows
  and what the number means for a guideline panel;
- each code cell ends by displaying something, so that a reader sees a result, and each
  notebook shows at least one figure;
- studies are shown by their labels (the dataset's `label` column), never by internal ids;
- every claim the prose makes is checked by the test, by the code in `CHECKS` below: it
  runs in the notebook's kernel after the last cell, so a notebook whose prose has gone
  stale fails the test suite, while the notebook itself holds no asserts.

One story across the README, the notebooks and the report: the primary analysis is
`models/ptr_bias_adjusted.toml` (the studies under stated bias assumptions); the same
studies at face value ("as reported", `models/ptr_random_effects.toml`) are shown beside it.

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
               "ratios (HR < 1 favours resection). Every study is observational: patients fit "
               "enough for surgery were the ones resected, so the reported HRs likely exaggerate "
               "the benefit. The primary analysis states that bias as an assumption."),
        ("md", "**Load the evidence.** `load_evidence` reads the shipped dataset, applies the "
               "primary selection (one estimate per source population, so that no patient counts "
               "twice) and derives a log-HR and its standard error for every row. Below are the "
               "studies the model will see, with the numbers each study reported (blank: not "
               "reported) and how bayesnet turned them into a log-HR (`derivation`; `+inverted`: "
               "the study reported control versus resection)."),
        ("code", "from pathlib import Path\n\n"
                 "import bayesnet\n\n"
                 "ev = bayesnet.load_evidence(dataset='gepnet_ptr', select='primary', base_dir=Path('../models'))\n"
                 "labels = dict(zip(ev.table['study'], ev.table['label']))  # display names of the studies\n"
                 "print(ev)\n"
                 "ev.table[['label', 'hr', 'ci_low', 'ci_high', 'p_value', 'direction', 'derivation']]"),
        ("md", "**What was left out, and why.** Every row of the dataset that the primary selection "
               "did not keep is listed with its reason; nothing is dropped silently. Most rows share "
               "patients with a kept row (the same registry) or were marked unusable by the curators."),
        ("code", "ev.excluded[['label', 'reason']]"),
        ("md", "**Fit the primary analysis.** `models/ptr_bias_adjusted.toml` is a random-effects "
               "model on the log-HRs with two stated assumptions: every study shares one bias "
               "(confounding by indication: the reported HR is on average 0.84 times the true HR), "
               "and single-centre series carry an extra bias of their own. These are priors, not "
               "estimates: no data can tell how much of the benefit is selection. The model is "
               "computed exactly (no sampling). The pooled HR is the average effect; the "
               "predictive interval is where the effect in a new setting is expected to lie, "
               "wider because settings differ."),
        ("code", "post = bayesnet.fit('../models/ptr_bias_adjusted.toml')\n"
                 "s = post.summary()\n"
                 "for line in s['bias_assumptions']:\n"
                 "    print('assumed:', line)\n"
                 "lo, hi = s['pooled']['hr']['ci95']\n"
                 "plo, phi = s['predictive']['hr']['ci95']\n"
                 "print(f\"pooled HR {s['pooled']['hr']['median']:.2f} (95% CrI {lo:.2f}-{hi:.2f})\")\n"
                 "print(f'predictive HR in a new setting: 95% interval {plo:.2f}-{phi:.2f}')"),
        ("md", "**As reported, and under the bias assumptions.** `post.as_reported` is the "
               "same model without the assumed biases: the studies at face value (the analysis of "
               "`models/ptr_random_effects.toml`). A panel sees both: the assumptions move the HR "
               "towards 1 and lower the probability of a clinically relevant benefit (HR < 0.8), "
               "which is the honest reading of observational evidence."),
        ("code", "import pandas as pd\n\n"
                 "def row(summary):\n"
                 "    hr, pr = summary['pooled']['hr'], summary['predictive']['hr']\n"
                 "    return {'pooled HR': round(hr['median'], 2),\n"
                 "            '95% CrI': f\"{hr['ci95'][0]:.2f}-{hr['ci95'][1]:.2f}\",\n"
                 "            'new setting, 95% interval': f\"{pr['ci95'][0]:.2f}-{pr['ci95'][1]:.2f}\",\n"
                 "            'P(HR < 1)': round(summary['prob']['pooled']['p_hr_lt_1'], 3),\n"
                 "            'P(HR < 0.8)': round(summary['prob']['pooled']['p_hr_lt_0.8'], 3),\n"
                 "            'P(HR < 0.8) in a new setting': round(summary['prob']['predictive']['p_hr_lt_0.8'], 3)}\n\n"
                 "both = pd.DataFrame({'as reported': row(s['unadjusted']),\n"
                 "                     'under the stated bias assumptions': row(s)}).T\n"
                 "both"),
        ("md", "**The forest plot.** Each study's reported HR (square) and its HR under the model "
               "(circle, pulled towards the pooled effect), the pooled HR (diamond) and the "
               "interval for a new setting (bar). A dagger marks an interval bayesnet derived "
               "rather than one the study reported."),
        ("code", "from bayesnet import plots\n\n"
                 "fig = plots.forest(post, labels=labels)"),
        ("md", "**Any threshold.** `post.prob` gives P(HR < x) for any x: here a benefit of at least "
               "30% (HR < 0.7) in a new setting, which lies between P(HR < 0.6) and P(HR < 0.8). "
               "`post.tidy()` is the whole summary as a tidy table (one row per quantity and "
               "scale; shown here without the per-study rows)."),
        ("code", "p07 = post.prob('predictive', 0.7)\n"
                 "print(f'P(HR < 0.7 in a new setting) = {p07:.3f}')\n"
                 "tidy = post.tidy()\n"
                 "tidy[tidy['quantity'] != 'study']"),
        ("md", "**What would overturn the conclusion.** The tipping point is the common bias at "
               "which a conclusion no longer holds; a panel judges whether a bias that large is "
               "plausible for these studies."),
        ("code", "for sentence in s['tipping_sentences']:\n"
                 "    print('-', sentence)"),
    ],
    "02_design_covariates": [
        ("md", "# Design covariates: registry cohorts vs institutional series\n\n"
               "Registry cohorts and single-institution series may differ in how patients were "
               "selected for surgery. A meta-regression on `source_type` estimates the HR in each "
               "kind of study and their ratio. (This is a secondary analysis of the studies as "
               "reported; the primary analysis, `models/ptr_bias_adjusted.toml`, is in notebook 01.)"),
        ("md", "**Fit the meta-regression.** `models/ptr_design_regression.toml` adds `source_type` "
               "as a covariate with registry cohorts as the reference level. Each line shows one "
               "stratum: its median HR, 95% credible interval and P(HR < 0.8), the probability "
               "of a clinically relevant benefit in that kind of study."),
        ("code", "import bayesnet\n\n"
                 "post = bayesnet.fit('../models/ptr_design_regression.toml')\n"
                 "s = post.summary()\n"
                 "strata = s['strata']['source_type']\n"
                 "def fmt_p(p):  # a probability as a panel reads it: never '1.000'\n"
                 "    return '> 0.999' if p > 0.999 else '< 0.001' if p < 0.001 else f'= {p:.3f}'\n\n"
                 "for lev, v in strata.items():\n"
                 "    lo, hi = v['hr']['ci95']\n"
                 "    print(f\"{lev:14s} HR {v['hr']['median']:.2f} ({lo:.2f}-{hi:.2f}), \"\n"
                 "          f\"P(HR < 0.8) {fmt_p(v['prob']['p_hr_lt_0.8'])}\")"),
        ("md", "**The design coefficient.** `hr_ratio` is the ratio of the institutional HR to the "
               "registry HR (1 = no difference by design); `p_ratio_lt_1` is P(HR ratio < 1), the "
               "probability that institutional series show the larger benefit. With five studies "
               "the interval is wide: the data cannot tell the designs apart with confidence."),
        ("code", "coef = s['coefficients']['source_type:institutional']\n"
                 "coef"),
        ("md", "**The forest plot by design**: registry cohorts and institutional series in their "
               "own groups, each study by its label."),
        ("code", "from bayesnet import plots\n\n"
                 "labels = dict(zip(post.evidence.table['study'], post.evidence.table['label']))\n"
                 "fig = plots.forest(post, labels=labels)"),
        ("md", "**The exact and MCMC engines agree.** The same model fitted by sampling (PyMC with "
               "nutpie, slower: the first run compiles the model, about a minute) must give the same "
               "posterior up to Monte Carlo error. We compare the median and the 95% interval "
               "bounds of each stratum's log-HR and of the design coefficient, in units of their "
               "Monte Carlo standard error (MCSE, from ArviZ): if the engines agree, a difference "
               "beyond 4 MCSE happens by chance with probability below 1 in 10,000 per comparison. "
               "The sampler's own diagnostics (R-hat, effective sample size, divergences) are "
               "printed first."),
        ("code", "import arviz as az\n"
                 "import numpy as np\n"
                 "import pandas as pd\n"
                 "import xarray as xr\n\n"
                 "mc = bayesnet.fit('../models/ptr_design_regression.toml', engine='mcmc', log_likelihood=False)\n"
                 "print('MCMC diagnostics passed' if mc.ok else f'MCMC diagnostics FAILED: {mc.diagnostics}')\n\n"
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
                 "agree.round(3)"),
    ],
    "03_prior_sensitivity": [
        ("md", "# Prior sensitivity: a community of priors and influence\n\n"
               "A conclusion a panel can rely on should not hinge on one prior or one study. "
               "Everything here is computed for the primary analysis, `models/ptr_bias_adjusted.toml`."),
        ("md", "**The community of priors** (Spiegelhalter et al. 1994): two normal priors on the "
               "pooled log-HR built from the clinical threshold HR 0.8. The sceptical prior is centred "
               "on no effect and gives only 5% probability to HR < 0.8; the enthusiastic prior is "
               "centred on HR 0.8 and gives only 5% probability to harm (HR > 1)."),
        ("code", "from bayesnet.sensitivity import community_priors, influence, sweep\n\n"
                 "cp = community_priors([1.0, 0.8])\n"
                 "{name: prior.label for name, prior in cp.items()}"),
        ("md", "**The prior sweep.** The primary analysis is refitted under every combination of "
               "the default priors for tau (the between-study SD) and for mu (the pooled log-HR): "
               "one row per combination, with the pooled HR, its interval and the probability of "
               "a clinically relevant benefit (pooled and in a new setting). If the probabilities "
               "stay on the same side of a decision across the rows, the prior does not drive it."),
        ("code", "import bayesnet\n"
                 "from bayesnet.sensitivity import default_grid\n\n"
                 "SPEC = '../models/ptr_bias_adjusted.toml'\n"
                 "grid = default_grid([1.0, 0.8])\n"
                 "post = bayesnet.fit(SPEC)\n"
                 "df = sweep(post)\n"
                 "df[['tau_prior', 'mu_prior', 'hr_median', 'hr_low', 'hr_high', 'p_hr_lt_0.8', 'p_pred_hr_lt_0.8']]"),
        ("md", "**Influence.** The analysis is refitted leaving out one study at a time (rows "
               "`kind = study`, named by their labels) and one level of each design column at a time. "
               "`d_p_pred_hr_lt_0.8` is how much leaving it out changes the probability of a "
               "clinically relevant benefit in a new setting; `flag` marks the single most "
               "influential study."),
        ("code", "labels = dict(zip(post.evidence.table['study'], post.evidence.table['label']))\n"
                 "inf = influence(post)\n"
                 "studies = inf[inf['kind'] == 'study']\n"
                 "shown = inf.assign(omitted=inf['omitted'].map(lambda x: labels.get(x, x)))\n"
                 "shown[['omitted', 'kind', 'hr_median', 'd_p_pred_hr_lt_0.8', 'flag']]"),
        ("md", "**The sweep as a figure**: one pooled-HR interval per prior combination, so a "
               "reader sees at a glance whether the priors move the conclusion."),
        ("code", "from bayesnet import plots\n\n"
                 "fig = plots.sweep_plot(df)"),
    ],
    "04_panel_report": [
        ("md", "# The panel report\n\n"
               "One call writes everything a guideline panel reads, for the primary analysis "
               "`models/ptr_bias_adjusted.toml` (the same report as `make report` writes to "
               "`results/gepnet_ptr/`)."),
        ("md", "**Write the report** into a folder of your temporary directory (printed below; "
               "give any other path). It holds report.html (self-contained: open it in a browser), "
               "report.md, summary.json (every number), studies.csv, the sensitivity tables and "
               "the figures. Writing it takes about a minute: the prior sweep and the influence "
               "analyses refit the model many times."),
        ("code", "import json\n"
                 "import tempfile\n"
                 "from pathlib import Path\n\n"
                 "from bayesnet.report import write_report\n\n"
                 "out = write_report('../models/ptr_bias_adjusted.toml', Path(tempfile.gettempdir()) / 'bayesnet_panel_report')\n"
                 "rep = json.loads((out / 'summary.json').read_text())  # every number the report shows\n"
                 "names = sorted(p.name for p in out.iterdir() if not p.name.startswith('.'))\n"
                 "print(f'the report is in {out.resolve()}')\n"
                 "print(f'open {(out / \"report.html\").resolve().as_uri()} in a browser')\n"
                 "names"),
        ("md", "**The report itself**, report.html shown in a frame (scroll inside it): the page a "
               "panel reads, with the question, the headline under its stated assumptions, the "
               "evidence and the details."),
        ("code", "import html\n\n"
                 "from IPython.display import HTML, Image\n\n"
                 "page = (out / 'report.html').read_text()\n"
                 "HTML(f'<iframe srcdoc=\"{html.escape(page)}\" style=\"width: 100%; height: 600px; border: 1px solid #ccc\"></iframe>')"),
        ("md", "**Its forest plot**, read from the report's figures folder."),
        ("code", "Image(filename=str(out / 'figures' / 'forest.png'))"),
        ("md", "**GRADE-ready statements.** Sentences for the GRADE domains imprecision (one per "
               "threshold) and inconsistency, then heterogeneity and robustness to the prior, each "
               "computed from the numbers above rather than written by hand. They are a draft: the "
               "panel decides the certainty."),
        ("code", "from bayesnet.report import grade_statements\n\n"
                 "lines = grade_statements(rep)\n"
                 "for line in lines:\n"
                 "    print('-', line)"),
    ],
}

#: The claims of each notebook's prose, checked by tests/test_notebooks.py in the notebook's
#: kernel after its last cell (they use the notebook's variables). Not written into the
#: notebooks: a reader sees the analysis, the test suite sees the checks.
CHECKS = {
    "01_quickstart": [
        "t = ev.table\n"
        "assert t['study'].is_unique, 'one row per study'\n"
        "assert (t['se'] > 0).all() and t['log_hr'].notna().all(), 'every row has a usable log-HR and SE'\n"
        "assert t['label'].notna().all() and set(labels.values()) == set(t['label']), 'studies shown by label'\n"
        "assert ev.excluded['reason'].astype(str).str.strip().ne('').all(), 'every exclusion has a reason'",
        "assert post.engine == 'exact' and s['status'] == 'ok' and s['bias_assumptions']\n"
        "assert plo < lo < hi < phi, 'the predictive interval contains the pooled one'",
        "u = s['unadjusted']\n"
        "assert s['pooled']['hr']['median'] > u['pooled']['hr']['median'], 'the assumptions move the HR towards 1'\n"
        "assert s['prob']['pooled']['p_hr_lt_0.8'] < u['prob']['pooled']['p_hr_lt_0.8'], 'and lower P(HR < 0.8)'\n"
        "assert abs(u['pooled']['hr']['median'] - bayesnet.fit('../models/ptr_random_effects.toml').summary()"
        "['pooled']['hr']['median']) < 1e-9, 'as reported = ptr_random_effects'",
        "assert post.prob('predictive', 0.6) <= p07 <= post.prob('predictive', 0.8)\n"
        "assert fig.axes, 'the forest plot has a panel'\n"
        "assert s['tipping_sentences']",
    ],
    "02_design_covariates": [
        "assert set(strata) == {'registry', 'institutional'} and strata['registry']['reference']\n"
        "assert 0 <= coef['p_ratio_lt_1'] <= 1\n"
        "assert fig.axes",
        "assert mc.ok, mc.diagnostics\n"
        "assert (agree['difference / MCSE'].abs() < 4).all(), 'the engines disagree beyond Monte Carlo error'",
    ],
    "03_prior_sensitivity": [
        "import math\n"
        "from scipy import stats\n"
        "sc, en = cp['sceptical'].params, cp['enthusiastic'].params\n"
        "assert math.isclose(stats.norm.cdf(math.log(0.8), sc['mu'], sc['sigma']), 0.05)\n"
        "assert math.isclose(stats.norm.sf(0.0, en['mu'], en['sigma']), 0.05)",
        "assert post.spec.bias is not None, 'the sweep is of the primary (bias-adjusted) analysis'\n"
        "assert len(df) == len(grid['tau']) * len(grid['mu']), 'one row per prior combination'\n"
        "assert ((df['hr_low'] <= df['hr_median']) & (df['hr_median'] <= df['hr_high'])).all()",
        "assert len(studies) == post.k, 'one refit per study'\n"
        "assert inf['flag'].sum() == 1\n"
        "assert set(shown.loc[inf['kind'] == 'study', 'omitted']) <= set(labels.values()), 'studies shown by label'",
        "assert fig.axes, 'the figure has a panel'",
    ],
    "04_panel_report": [
        "assert {'report.html', 'report.md', 'summary.json', 'studies.csv', 'figures'} <= set(names), names\n"
        "assert rep['provenance']['spec_path'].endswith('ptr_bias_adjusted.toml')\n"
        "assert out.name == 'bayesnet_panel_report' and (out / 'figures' / 'forest.png').is_file()",
        "assert any(x.startswith('Imprecision') for x in lines)\n"
        "assert any(x.startswith('Inconsistency') for x in lines)",
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
