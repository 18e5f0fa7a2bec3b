namespace AccelSim.Mapper;
