// A folder that is not in the layer table.
int Thing() { return 1; }
