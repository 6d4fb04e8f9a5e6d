// Defines std::ios_base_library_init() (mangled _ZSt21ios_base_library_initv), the one symbol
// that GCC >= 13 emits for <iostream> and that makes libLibTorchSharp.so require GLIBCXX_3.4.32.
// Older libstdc++ (Debian 12: 3.4.30) initialises iostreams itself, so an empty body is correct.
namespace std { void ios_base_library_init() {} }
