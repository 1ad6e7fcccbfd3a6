"""Publication bias and small-study effects (issue 12): funnel-plot asymmetry tests,
PET-PEESE, Vevea-Hedges selection models and the RoBMA-PSMA model-averaged ensemble."""
