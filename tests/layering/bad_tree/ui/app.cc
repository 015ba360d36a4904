// ui/ holds web assets only.
int main() { return 0; }
