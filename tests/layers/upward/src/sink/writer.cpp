// A sink file that includes scan/: the layer check must refuse it.
#include "scan/compress.h"
