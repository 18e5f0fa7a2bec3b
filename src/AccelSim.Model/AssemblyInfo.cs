namespace AccelSim.Model;
