import { describeFaultMatrix } from './fault-matrix';

describeFaultMatrix(['delete', 'rollback']);
