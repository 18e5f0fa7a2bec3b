namespace AccelSim.Mapping;
