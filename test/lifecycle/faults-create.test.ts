import { describeFaultMatrix } from './fault-matrix';

describeFaultMatrix(['create', 'rotate']);
