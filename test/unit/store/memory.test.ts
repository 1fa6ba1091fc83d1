import { MemoryStore } from '../../../src/store/memory.js'
import { storeContract } from '../../contracts/store-contract.js'

storeContract('MemoryStore', async (t) => {
  const store = new MemoryStore()
  t.teardown(async () => { await store.close() })
  return store
})
