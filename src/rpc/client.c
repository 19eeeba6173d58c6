/* Placeholder until the CLI work lands (owned by the CLI work). */
#include "rpc/client.h"
