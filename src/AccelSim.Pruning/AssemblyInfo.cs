namespace AccelSim.Pruning;
