from jiuzhu_sim.cli import console

console()
