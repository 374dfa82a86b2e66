import { describeOnStore } from '../support/stores.ts';
import { pipelineCrashScenario } from './pipeline-crash-scenario.ts';

describeOnStore('postgres', 'crash: kill -9 while the pipeline catches up', pipelineCrashScenario);
