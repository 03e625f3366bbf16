// Test kernel that does not compile.
void main() { setOutput(undefined_name); }
