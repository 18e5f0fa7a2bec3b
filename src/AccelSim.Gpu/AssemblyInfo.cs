namespace AccelSim.Gpu;
