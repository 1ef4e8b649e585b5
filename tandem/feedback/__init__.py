"""The feedback loop end to end: simulated months of campaigns, results, retraining and people's adjustments."""
