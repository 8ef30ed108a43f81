"""Memory analysis (Tang et al. 2017): recording gates and states to HDF5, forgetting speed after noise bursts,
phone selectivity, value distributions, gate saturation and t-SNE trajectories.

In: trained models and a data dir. Out: state recordings, then ``analysis.json`` with the study table.
"""
