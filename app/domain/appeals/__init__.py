"""Police appeals (协查通报 / 寻人): published by officers to the volunteers of an area."""
