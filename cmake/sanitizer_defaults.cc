// Built into every executable of a FINANCIALAPI_SANITIZE build, so that the sanitizers behave the
// same whether a binary runs under ctest, a script or by hand (no environment variables needed).
extern "C" {

// cpprestsdk (archived upstream) leaves pplx task continuations of in-flight requests alive in its
// thread pool when a process exits right after a failed connection; the leak is inside the library.
const char* __lsan_default_suppressions() { return "leak:libcpprest.so\n"; }

const char* __ubsan_default_options() { return "print_stacktrace=1:halt_on_error=1"; }

}  // extern "C"
