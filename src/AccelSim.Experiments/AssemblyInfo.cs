namespace AccelSim.Experiments;
