"""Platform levels (province / city / county / district): dispatch down, push everything up."""
