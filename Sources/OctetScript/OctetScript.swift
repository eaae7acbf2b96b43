import OctetGraph
