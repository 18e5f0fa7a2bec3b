namespace AccelSim.Hardware;
