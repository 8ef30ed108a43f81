"""gatescope.noise: noise sources, SNR mixing, burst insertion and stream perturbation (a pure signal library)."""
