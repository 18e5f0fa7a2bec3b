namespace AccelSim.Einsum;
