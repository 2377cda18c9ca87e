// Header-only module: see include/CKarstPosix.h.
