import {Args} from '@oclif/core'
import {BaseCommand} from '../cli/base-command.js'
import {type InitResult, init} from '../services/init.js'

export default class Init extends BaseCommand {
  static override summary = 'Create a .mlproj workspace (running it again is harmless)'
  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> projects/churn',
  ]
  static override args = {dir: Args.string({description: 'Folder to create .mlproj in', default: '.'})}

  async run(): Promise<InitResult> {
    const {args} = await this.parse(Init)
    const result = await init({dir: args.dir})
    this.print(`${result.created ? 'created' : 'already a workspace:'} ${result.dir}`)
    return result
  }
}
