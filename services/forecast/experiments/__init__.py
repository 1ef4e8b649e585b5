"""A/B tests: design (sample size), analysis (frequentist, Bayesian, sequential) and a plot over time."""
